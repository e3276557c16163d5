#!/bin/bash
# Print the kiosk's host firewall or its sshd drop-in, both limited to the maintenance networks.
#   KIOSK_SSH_FROM="10.20.0.0/16 fd00:20::/64" FIRST_USER_NAME=kadmin kiosk-ssh-access.sh nftables|sshd|check
# KIOSK_SSH_FROM: space-separated IPv4/IPv6 addresses or CIDR networks that may open SSH (TCP 22) to the
# kiosk; empty = from anywhere (check-config.sh warns). A malformed entry stops the build (exit 2): a
# ruleset nft refuses at boot would leave the kiosk with no firewall at all.
#   nftables  /etc/nftables.conf: inbound policy drop; loopback, replies to the kiosk's own connections,
#             the ICMP/ICMPv6 a host needs (errors, echo, neighbour discovery, MLD), DHCPv4/DHCPv6 client
#             replies, SSH from KIOSK_SSH_FROM; outbound open (MQTT 8883, HTTPS, NTP, DNS, CUPS).
#   sshd      /etc/ssh/sshd_config.d/10-kiosk.conf: keys only, no root, only FIRST_USER_NAME (from
#             KIOSK_SSH_FROM when set).
#   check     only validate KIOSK_SSH_FROM.
set -euo pipefail

fail() {
	echo "kiosk-ssh-access: $*" >&2
	exit 2
}

is_ipv4() {
	local IFS=. octets octet
	# shellcheck disable=SC2206  # split on dots on purpose
	octets=($1)
	[[ "$1" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || return 1
	for octet in "${octets[@]}"; do
		((10#${octet} <= 255)) || return 1
	done
}

is_ipv6() {
	local address="$1" head tail groups=0 group
	[[ "${address}" =~ ^[0-9A-Fa-f:]+$ && "${address}" == *:* ]] || return 1
	[[ "${address}" != *:::* ]] || return 1
	if [[ "${address}" == *::* ]]; then
		head="${address%%::*}" tail="${address#*::}"
		[[ "${tail}" != *::* ]] || return 1 # at most one '::'
	else
		head="${address}" tail=""
	fi
	for group in ${head//:/ } ${tail//:/ }; do
		[[ "${group}" =~ ^[0-9A-Fa-f]{1,4}$ ]] || return 1
		groups=$((groups + 1))
	done
	# No empty group other than '::', none at either end.
	[[ "${head}" != :* && "${head}" != *: && "${tail}" != :* && "${tail}" != *: ]] || return 1
	[[ "${head}" != *::* ]] || return 1
	if [[ "${address}" == *::* ]]; then
		((groups <= 7))
	else
		((groups == 8))
	fi
}

v4=() v6=()
for entry in ${KIOSK_SSH_FROM:-}; do
	address="${entry%/*}" prefix=""
	[[ "${entry}" == */* ]] && prefix="${entry#*/}"
	[[ -z "${prefix}" || "${prefix}" =~ ^[0-9]{1,3}$ ]] || fail "KIOSK_SSH_FROM entry '${entry}': bad prefix length"
	if is_ipv4 "${address}"; then
		[[ -z "${prefix}" ]] || ((10#${prefix} <= 32)) || fail "KIOSK_SSH_FROM entry '${entry}': IPv4 prefix above 32"
		v4+=("${entry}")
	elif is_ipv6 "${address}"; then
		[[ -z "${prefix}" ]] || ((10#${prefix} <= 128)) || fail "KIOSK_SSH_FROM entry '${entry}': IPv6 prefix above 128"
		v6+=("${entry,,}")
	else
		fail "KIOSK_SSH_FROM entry '${entry}' is not an IPv4 or IPv6 address or network (e.g. 10.20.0.0/16, fd00:20::/64)"
	fi
done

join() {
	local IFS=","
	printf '%s' "$*" | sed 's/,/, /g'
}

nftables() {
	cat <<-'HEAD'
		#!/usr/sbin/nft -f
		# Written by the Madoguchi image build (provisioning/image/scripts/kiosk-ssh-access.sh, KIOSK_SSH_FROM).
		# Loaded before the network by nftables.service; `nft list ruleset` shows it, counters included.
		flush ruleset

		table inet kiosk {
	HEAD
	if ((${#v4[@]})); then
		printf '\tset ssh_from_v4 {\n\t\ttype ipv4_addr; flags interval; auto-merge\n\t\telements = { %s }\n\t}\n\n' "$(join "${v4[@]}")"
	fi
	if ((${#v6[@]})); then
		printf '\tset ssh_from_v6 {\n\t\ttype ipv6_addr; flags interval; auto-merge\n\t\telements = { %s }\n\t}\n\n' "$(join "${v6[@]}")"
	fi
	cat <<'RULES'
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		iif != "lo" ip daddr 127.0.0.0/8 drop
		iif != "lo" ip6 daddr ::1 drop
		ct state vmap { established : accept, related : accept, invalid : drop }
		# ICMP errors (path MTU, unreachable) and echo; neighbour discovery and MLD for IPv6 (RFC 4890).
		ip protocol icmp icmp type { echo-request, destination-unreachable, time-exceeded, parameter-problem } limit rate 20/second burst 50 packets accept
		meta l4proto ipv6-icmp icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem, echo-request, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-query, mld-listener-report, mld-listener-done, mld2-listener-report } accept
		# DHCP client replies (broadcast or to an address conntrack has not seen yet).
		udp sport 67 udp dport 68 accept
		ip6 saddr fe80::/10 udp sport 547 udp dport 546 accept
RULES
	if ((${#v4[@]} + ${#v6[@]} == 0)); then
		printf '\t\t# SSH from anywhere: KIOSK_SSH_FROM was empty when the image was built.\n'
		printf '\t\ttcp dport 22 ct state new accept\n'
	else
		printf '\t\t# SSH only from the maintenance networks (KIOSK_SSH_FROM).\n'
		((${#v4[@]})) && printf '\t\ttcp dport 22 ip saddr @ssh_from_v4 ct state new accept\n'
		((${#v6[@]})) && printf '\t\ttcp dport 22 ip6 saddr @ssh_from_v6 ct state new accept\n'
	fi
	cat <<'TAIL'
		# What falls through is dropped. Counted (nft list ruleset); unicast drops logged, sparingly: the
		# journal on /data is capped at 16 MB and LAN broadcast noise must not push the app's logs out.
		meta pkttype host limit rate 5/minute burst 5 packets log prefix "kiosk-fw drop: " level info
		counter comment "dropped by policy"
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
	}

	chain output {
		type filter hook output priority filter; policy accept;
	}
}
TAIL
}

sshd() {
	local user="${FIRST_USER_NAME:?FIRST_USER_NAME is not set (pi-gen exports it from the config)}" allow=""
	[[ "${user}" =~ ^[a-z][-a-z0-9_]*$ ]] || fail "FIRST_USER_NAME '${user}' is not a user name"
	local entry
	for entry in "${v4[@]}" "${v6[@]}"; do
		allow+=" ${user}@${entry}"
	done
	allow="${allow# }"
	cat <<-CONF
		# Written by the Madoguchi image build (provisioning/image/scripts/kiosk-ssh-access.sh).
		# Read before /etc/ssh/sshd_config (its Include comes first and sshd keeps the first value).
		# Maintenance only: ${user}, with a key, from the maintenance networks (KIOSK_SSH_FROM); root
		# work through sudo, which logs every command to the journal.
		PubkeyAuthentication yes
		AuthenticationMethods publickey
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		PermitRootLogin no
		PermitEmptyPasswords no
		AllowUsers ${allow:-${user}}
		MaxAuthTries 3
		LoginGraceTime 30
		# Key fingerprint of every login in the journal: which maintainer's key was used.
		LogLevel VERBOSE
		X11Forwarding no
		AllowAgentForwarding no
		# ssh -L to the kiosk's own services (CUPS on localhost:631) stays possible; -R and tunnels do not.
		AllowTcpForwarding local
		PermitTunnel no
		ClientAliveInterval 300
		ClientAliveCountMax 2
	CONF
}

case "${1:-}" in
nftables) nftables ;;
sshd) sshd ;;
check) ;;
*)
	echo "usage: kiosk-ssh-access.sh nftables|sshd|check" >&2
	exit 2
	;;
esac
