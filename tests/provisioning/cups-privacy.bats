#!/usr/bin/env bats
# kiosk-cups-privacy.sh: printed documents do not stay in the CUPS spool (run by stage-kiosk/01-system).

load helpers

setup() {
	DEFAULT=/usr/share/cups/cupsd.conf.default # Debian's cupsd.conf, from cups-daemon (scripts/bootstrap.sh)
	[[ -f "${DEFAULT}" ]] || fail "${DEFAULT} is missing: scripts/bootstrap.sh installs cups"
	CONF="${BATS_TEST_TMPDIR}/cupsd.conf"
	cp "${DEFAULT}" "${CONF}"
	chmod 0640 "${CONF}"
}

fail() {
	echo "$*" >&2
	return 1
}

# The value of a top-level directive, case-insensitively; one line per occurrence.
directive() {
	awk -v name="${1,,}" '/^[ \t]*<\// { d--; next } /^[ \t]*</ { d++; next }
		d == 0 && tolower($1) == name { $1 = ""; sub(/^ /, ""); print }' "${CONF}"
}

@test "Debian's cupsd.conf: documents deleted at once, job records after 5 minutes, no page log, no browsing" {
	run "${FILES}/kiosk-cups-privacy.sh" "${CONF}"
	[ "$status" -eq 0 ]
	[ "$(directive PreserveJobFiles)" = "No" ]
	[ "$(directive PreserveJobHistory)" = "300" ]
	[ "$(directive MaxJobs)" = "100" ]
	[ "$(directive Browsing)" = "No" ]
	[ "$(directive PageLogFormat | wc -l)" -eq 1 ] && [ -z "$(directive PageLogFormat)" ]
	# The rest of Debian's file is untouched, the access policy included.
	[ "$(grep -c '^<Policy default>' "${CONF}")" -eq 1 ]
	[[ "$(grep -c 'JobPrivateValues default' "${CONF}")" -ge 1 ]]
	[ "$(stat -c %a "${CONF}")" = "640" ]
}

@test "cupsd itself accepts the result" {
	command -v cupsd >/dev/null || fail "cupsd is missing: scripts/bootstrap.sh installs cups"
	"${FILES}/kiosk-cups-privacy.sh" "${CONF}"
	run cupsd -t -c "${CONF}"
	[ "$status" -eq 0 ]
	echo 'NoSuchDirective 1' >>"${CONF}"
	run cupsd -t -c "${CONF}"
	[ "$status" -ne 0 ] # the check can fail
}

@test "a second run changes nothing, and earlier values in any spelling are replaced" {
	printf 'preservejobfiles 86400\nPRESERVEJOBHISTORY Yes\n<Location /x>\n  MaxJobs 7\n</Location>\n' >>"${CONF}"
	"${FILES}/kiosk-cups-privacy.sh" "${CONF}"
	cp "${CONF}" "${BATS_TEST_TMPDIR}/first"
	"${FILES}/kiosk-cups-privacy.sh" "${CONF}"
	cmp "${CONF}" "${BATS_TEST_TMPDIR}/first"
	[ "$(directive PreserveJobFiles)" = "No" ]
	[ "$(directive PreserveJobHistory)" = "300" ]
	grep -q '^  MaxJobs 7$' "${CONF}" # inside a block: not a server directive, left alone
}

@test "a missing file is an error" {
	run "${FILES}/kiosk-cups-privacy.sh" "${BATS_TEST_TMPDIR}/none.conf"
	[ "$status" -eq 1 ]
	[[ "$output" == *"none.conf does not exist"* ]]
}
