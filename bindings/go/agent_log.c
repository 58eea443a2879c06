// SPDX-License-Identifier: Apache-2.0
/* The C side of AgentOptions.Log: the agent's log function, passed on to Go. */
#include "_cgo_export.h"

void kilo_go_agent_log(void *ctx, enum kilo_log_level level, const char *message)
{
	kiloGoAgentLog((uintptr_t)ctx, (int)level, (char *)message);
}
