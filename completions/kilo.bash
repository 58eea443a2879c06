# bash completion for kg and kgctl, installed once under each name.
# The flags come from the programs' own --help, so they never drift from
# them; the values of flags that take a fixed set are listed here.
# shellcheck shell=bash disable=SC2207

# _kilo_flags PROGRAM [COMMAND]: the long flags that `PROGRAM [COMMAND] --help`
# prints, --no-FLAG for each boolean shown as --FLAG[=BOOL], and --help.
_kilo_flags() {
	local help
	help="$("$@" --help 2>/dev/null)"
	{
		echo --help
		grep -oP -- '(?<![\w-])--[a-z][a-z0-9-]*[a-z0-9](?![\w-])' <<<"$help"
		grep -oP -- '(?<![\w-])--[a-z][a-z0-9-]*(?=\[=BOOL\])' <<<"$help" | sed 's/^--/--no-/'
	} | sort -u
}

# _kilo_value FLAG CUR: fills COMPREPLY with the values of FLAG; returns 1 when FLAG takes none.
_kilo_value() {
	local words
	case "$1" in
	--log-level) words="all debug info warn error none" ;;
	--mesh-granularity) words="location full cross" ;;
	--encapsulate) words="always crosssubnet never" ;;
	--compatibility) words="flannel cilium" ;;
	--wg-backend) words="auto kernel userspace" ;;
	--bpf) words="off auto on" ;;
	--bpf-maglev-size) words="16381 65521" ;;
	--flow-events) words="policed all" ;;
	--bpf-pin-dir | --bpf-cgroup | --pin-dir)
		COMPREPLY=($(compgen -d -- "$2"))
		compopt -o filenames 2>/dev/null
		return 0
		;;
	--mtu) words="auto 1420" ;;
	--store)
		if [[ "$2" == file:* ]]; then
			COMPREPLY=($(compgen -P file: -d -- "${2#file:}"))
		else
			COMPREPLY=($(compgen -W "file: etcd:// etcds://" -- "$2"))
		fi
		compopt -o nospace 2>/dev/null
		return 0
		;;
	--mesh | --private-key | --cni-path | --etcd-cacert | --etcd-cert | --etcd-key | --etcd-password-file | \
		--filename | -f)
		COMPREPLY=($(compgen -f -- "$2"))
		compopt -o filenames 2>/dev/null
		return 0
		;;
	--userspace-wireguard)
		COMPREPLY=($(compgen -c -- "$2"))
		return 0
		;;
	--check-in-period | --ready-window | --resync-period | --http-timeout | --persistent-keepalive)
		words="10s 30s 1m 5m"
		;;
	--hostname | --location | --pod-cidr | --force-endpoint | --force-internal-ip | --allowed-location-ips | \
		--internal-cidr | --service-cidr | --subnet | --port | --listen | --interface | --http-max-connections | \
		--http-max-connections-per-ip | --etcd-user | --node | --allowed-ip | --allowed-ips | --now | -a | -i | \
		--namespace | -n)
		COMPREPLY=()
		return 0
		;;
	*) return 1 ;;
	esac
	COMPREPLY=($(compgen -W "$words" -- "$2"))
	return 0
}

_kg() {
	local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD - 1]}"
	COMPREPLY=()
	if [[ "$cur" == --*=* ]]; then
		# --flag=VALUE: booleans take true or false.
		COMPREPLY=($(compgen -P "${cur%%=*}=" -W "true false" -- "${cur#*=}"))
		return
	fi
	((COMP_CWORD > 1)) && _kilo_value "$prev" "$cur" && return
	COMPREPLY=($(compgen -W "$(_kilo_flags "${COMP_WORDS[0]}")" -- "$cur"))
}

_kgctl() {
	local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD - 1]}"
	local program="${COMP_WORDS[0]}" command="" i word args=()
	local commands="solve showconf graph genkey pubkey apply get delete wg status node connect services observe policy bpf"
	COMPREPLY=()
	# The command is the first word that is neither a flag nor a global flag's value.
	for ((i = 1; i < COMP_CWORD; i++)); do
		word="${COMP_WORDS[i]}"
		if [[ -z "$command" ]]; then
			case "$word" in
			--*=*) ;;
			--mesh | --store | --ready-window | --etcd-* | --mesh-granularity | --port) ((i++)) ;;
			-*) ;;
			*) command="$word" ;;
			esac
		elif [[ "$word" != -* && "${COMP_WORDS[i - 1]}" != -* ]]; then
			args+=("$word")
		fi
	done
	((COMP_CWORD > 1)) && [[ "$prev" == -* ]] && _kilo_value "$prev" "$cur" && return
	if [[ "$prev" == -o || "$prev" == --output ]]; then
		case "$command" in
		solve) COMPREPLY=($(compgen -W "json" -- "$cur")) ;;
		showconf) COMPREPLY=($(compgen -W "wireguard json yaml" -- "$cur")) ;;
		graph) COMPREPLY=($(compgen -W "dot svg" -- "$cur")) ;;
		wg) COMPREPLY=($(compgen -W "text json dump" -- "$cur")) ;;
		status | policy) COMPREPLY=($(compgen -W "text json" -- "$cur")) ;;
		get) COMPREPLY=($(compgen -W "json yaml" -- "$cur")) ;;
		esac
		return
	fi
	if [[ -z "$command" ]]; then
		if [[ "$cur" == -* ]]; then
			COMPREPLY=($(compgen -W "$(_kilo_flags "$program")" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		fi
		return
	fi
	if [[ "$cur" == -* ]]; then
		COMPREPLY=($(compgen -W "$(_kilo_flags "$program" "$command")" -- "$cur"))
		return
	fi
	# The words after the command.
	case "$command:${#args[@]}" in
	showconf:0) COMPREPLY=($(compgen -W "node peer" -- "$cur")) ;;
	node:0) COMPREPLY=($(compgen -W "set" -- "$cur")) ;;
	policy:0) COMPREPLY=($(compgen -W "explain" -- "$cur")) ;;
	node:2 | node:[3-9])
		COMPREPLY=($(compgen -W "location= leader= force-endpoint= force-internal-ip= persistent-keepalive=
			allowed-location-ips= pod-cidr=" -- "$cur"))
		compopt -o nospace 2>/dev/null
		;;
	wg:0) COMPREPLY=($(compgen -W "show setconf" -- "$cur")) ;;
	get:0 | delete:0)
		COMPREPLY=($(compgen -W "services endpointslices pods namespaces networkpolicies nodes peers" -- "$cur"))
		;;
	wg:2) COMPREPLY=($(compgen -f -- "$cur")) ;;
	esac
}

complete -F _kg kg
complete -F _kgctl kgctl
