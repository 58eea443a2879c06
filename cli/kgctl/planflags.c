// SPDX-License-Identifier: Apache-2.0
#include "planflags.h"

#include <string.h>

int kgctl_plan_flag(int c, const char *value, struct kgctl_plan_flags *flags)
{
	switch (c) {
	case KGCTL_OPT_LOCAL:
	case KGCTL_OPT_NO_LOCAL:
		flags->no_local = c == KGCTL_OPT_NO_LOCAL;
		return 1;
	case KGCTL_OPT_ENCAPSULATE:
		if (kilo_encapsulate_parse(value, &flags->encapsulate, NULL) < 0)
			return -kgctl_usage_fail(NULL, "--encapsulate: \"%s\" is not always, crosssubnet or never", value);
		return 1;
	case KGCTL_OPT_COMPATIBILITY:
		if (kilo_compatibility_parse(value, &flags->compatibility, NULL) < 0)
			return -kgctl_usage_fail(NULL, "--compatibility: \"%s\" is not flannel or cilium", value);
		return 1;
	case KGCTL_OPT_INTERFACE:
		if (!value[0] || strlen(value) >= KILO_IFNAMSIZ)
			return -kgctl_usage_fail(NULL, "--interface: \"%s\" is not a name of 1 to %d characters", value,
						KILO_IFNAMSIZ - 1);
		flags->interface = value;
		return 1;
	case KGCTL_OPT_CNI:
	case KGCTL_OPT_NO_CNI:
		flags->no_cni = c == KGCTL_OPT_NO_CNI;
		return 1;
	case KGCTL_OPT_FORWARD_RULES:
		flags->forward_rules = true;
		return 1;
	case KGCTL_OPT_GRANULARITY:
		flags->override_granularity = true;
		return kgctl_parse_granularity(value, &flags->granularity) ? -1 : 1;
	default:
		return 0;
	}
}
