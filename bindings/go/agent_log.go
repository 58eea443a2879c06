// SPDX-License-Identifier: Apache-2.0

package kilo

/*
#include <stdint.h>
#include <kilo/kilo.h>
*/
import "C"

import "runtime/cgo"

// LogLevel is the level of an agent's message; the values are syslog's.
type LogLevel int

const (
	LogError   LogLevel = C.KILO_LOG_ERROR
	LogWarning LogLevel = C.KILO_LOG_WARNING
	LogInfo    LogLevel = C.KILO_LOG_INFO
	LogDebug   LogLevel = C.KILO_LOG_DEBUG
)

//export kiloGoAgentLog
func kiloGoAgentLog(handle C.uintptr_t, level C.int, message *C.char) {
	log := cgo.Handle(handle).Value().(func(LogLevel, string))
	log(LogLevel(level), C.GoString(message))
}
