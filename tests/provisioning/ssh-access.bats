#!/usr/bin/env bats
# kiosk-ssh-access.sh: the kiosk's nftables ruleset and sshd drop-in from KIOSK_SSH_FROM.

load helpers

nft_check() {
	command -v nft >/dev/null || {
		echo "nft is missing: scripts/bootstrap.sh installs nftables" >&2
		return 1
	}
	unshare --net nft -c -f "$1"
}

@test "maintenance networks: SSH only from them, over IPv4 and IPv6; nft accepts the ruleset" {
	KIOSK_SSH_FROM="10.20.0.0/16 192.0.2.7 FD00:20::/64" run "${SCRIPTS}/kiosk-ssh-access.sh" nftables
	[ "$status" -eq 0 ]
	[[ "$output" == *"elements = { 10.20.0.0/16, 192.0.2.7 }"* ]]
	[[ "$output" == *"elements = { fd00:20::/64 }"* ]]
	[ "$(grep -c 'dport 22' <<<"$output")" -eq 2 ]
	[ "$(grep 'dport 22' <<<"$output" | grep -c 'saddr @ssh_from_v')" -eq 2 ]
	[[ "$output" == *"policy drop;"* ]]
	printf '%s\n' "$output" >"${BATS_TEST_TMPDIR}/kiosk.nft"
	nft_check "${BATS_TEST_TMPDIR}/kiosk.nft"
}

@test "only IPv4 networks: no SSH over IPv6 at all" {
	KIOSK_SSH_FROM="10.20.0.0/16" run "${SCRIPTS}/kiosk-ssh-access.sh" nftables
	[ "$status" -eq 0 ]
	[[ "$output" != *"ssh_from_v6"* ]]
	[ "$(grep -c 'dport 22' <<<"$output")" -eq 1 ]
	printf '%s\n' "$output" >"${BATS_TEST_TMPDIR}/kiosk.nft"
	nft_check "${BATS_TEST_TMPDIR}/kiosk.nft"
}

@test "empty KIOSK_SSH_FROM: SSH from anywhere, still a valid ruleset with inbound drop" {
	KIOSK_SSH_FROM="" run "${SCRIPTS}/kiosk-ssh-access.sh" nftables
	[ "$status" -eq 0 ]
	[[ "$output" == *$'\t\ttcp dport 22 ct state new accept'* ]]
	[[ "$output" == *"policy drop;"* ]]
	printf '%s\n' "$output" >"${BATS_TEST_TMPDIR}/kiosk.nft"
	nft_check "${BATS_TEST_TMPDIR}/kiosk.nft"
}

@test "a malformed entry stops the build and prints no ruleset" {
	for bad in 10.20.0 10.20.0.0/33 256.1.1.1 1::2::3 fd00::/129 maint.city.example '10.0.0.0/8;accept'; do
		status=0
		out="$(KIOSK_SSH_FROM="10.1.0.0/16 ${bad}" "${SCRIPTS}/kiosk-ssh-access.sh" nftables 2>"${BATS_TEST_TMPDIR}/err")" ||
			status=$?
		[ "$status" -eq 2 ]
		[ -z "$out" ]
		[[ "$(<"${BATS_TEST_TMPDIR}/err")" == *"KIOSK_SSH_FROM entry '${bad}'"* ]]
	done
}

@test "sshd drop-in: keys only, no root, only the maintenance account from the networks" {
	FIRST_USER_NAME=kadmin KIOSK_SSH_FROM="10.20.0.0/16 fd00:20::/64" run "${SCRIPTS}/kiosk-ssh-access.sh" sshd
	[ "$status" -eq 0 ]
	[[ "$output" == *$'\nPasswordAuthentication no\n'* ]]
	[[ "$output" == *$'\nKbdInteractiveAuthentication no\n'* ]]
	[[ "$output" == *$'\nPermitRootLogin no\n'* ]]
	[[ "$output" == *$'\nAllowUsers kadmin@10.20.0.0/16 kadmin@fd00:20::/64\n'* ]]
	FIRST_USER_NAME=kadmin KIOSK_SSH_FROM="" run "${SCRIPTS}/kiosk-ssh-access.sh" sshd
	[[ "$output" == *$'\nAllowUsers kadmin\n'* ]]
}
