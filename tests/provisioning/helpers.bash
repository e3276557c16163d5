# Shared set-up for the provisioning bats tests: paths, and stub commands that log their arguments.
# shellcheck shell=bash

export FILES="${BATS_TEST_DIRNAME}/../../provisioning/image/stage-kiosk/01-system/files/bin"
export SCRIPTS="${BATS_TEST_DIRNAME}/../../provisioning/image/scripts"

# stub NAME [EXIT [STDOUT]]: an executable in $STUBS that appends "NAME ARGS..." to $CALLS.
stub() {
	local name="$1" status="${2:-0}" out="${3:-}"
	mkdir -p "${STUBS}"
	cat >"${STUBS}/${name}" <<STUB
#!/bin/bash
echo "${name} \$*" >>"${CALLS}"
[[ -n "${out}" ]] && echo "${out}"
exit ${status}
STUB
	chmod +x "${STUBS}/${name}"
}

# stub_stdin NAME: like stub, for a command fed through a pipe; what it reads goes to $CALLS.stdin.
stub_stdin() {
	local name="$1"
	mkdir -p "${STUBS}"
	cat >"${STUBS}/${name}" <<STUB
#!/bin/bash
echo "${name} \$*" >>"${CALLS}"
cat >>"${CALLS}.stdin"
STUB
	chmod +x "${STUBS}/${name}"
}

setup_stubs() {
	STUBS="${BATS_TEST_TMPDIR}/stubs"
	CALLS="${BATS_TEST_TMPDIR}/calls"
	: >"${CALLS}"
}
