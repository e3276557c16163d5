#!/bin/bash
# Build the kiosk wheelhouse on any host (x86 included): the app's own wheel plus every dependency of
# madoguchi[kiosk] as a CPython 3.13 / aarch64 (or pure-Python) wheel, SHA256SUMS, constraints.txt, and
# a check that pip resolves madoguchi[kiosk] from OUT_DIR alone for the kiosk (no index, no network).
#
#   provisioning/image/wheelhouse.sh OUT_DIR        (make wheelhouse: OUT_DIR = dist/wheelhouse)
# OUT_DIR's *.whl, SHA256SUMS, SHA256SUMS.sig and constraints.txt are replaced on every run.
# Exit status: 0 built and checked; 2 no index reachable (or a plain-http one pip ignores); 3 a dependency
# has no wheel for the kiosk on the index; 1 anything else.
#
# Sources: exactly one index, PIP_INDEX_URL or https://pypi.org/simple; pip configuration files and
# PIP_FIND_LINKS / PIP_EXTRA_INDEX_URL are ignored so a build host's local indexes cannot slip in.
# Environment:
#   PYTHON                  interpreter with pip and packaging (default: .venv/bin/python, else python3)
#   PIP_INDEX_URL           a PyPI mirror (needed on a network without PyPI)
#   PIP_CACHE_DIR           pip's download cache (reused between runs)
#   KIOSK_EXTRA_WHEELS      folder of wheels built on an arm64 builder for dependencies PyPI has no
#                           aarch64 wheel of (pyscard; docs/security.md "Offline wheelhouse");
#                           default dist/extra-wheels when that folder exists, empty = none
#   WHEELHOUSE_CONSTRAINTS  pip constraints file, e.g. a previous OUT_DIR/constraints.txt (same versions)
#   WHEELHOUSE_EXTRAS       extras of the app to include (default: kiosk)
#   TARGET_PYTHON, TARGET_PLATFORM   default 3.13 and manylinux_2_41_aarch64 (Trixie, glibc 2.41)
#   WHEELHOUSE_TIMEOUT      seconds per network request (default 30)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "${here}/../.." && pwd)"
out_arg="${1:?usage: wheelhouse.sh OUT_DIR}"
mkdir -p "${out_arg}"
out="$(cd "${out_arg}" && pwd)"

if [[ -z "${PYTHON:-}" ]]; then
	if [[ -x "${repo}/.venv/bin/python" ]]; then PYTHON="${repo}/.venv/bin/python"; else PYTHON=python3; fi
fi
index="${PIP_INDEX_URL:-https://pypi.org/simple}"
extras="${WHEELHOUSE_EXTRAS:-kiosk}"
target_python="${TARGET_PYTHON:-3.13}"
target_platform="${TARGET_PLATFORM:-manylinux_2_41_aarch64}"
abi="cp${target_python/./}"
if [[ -z "${KIOSK_EXTRA_WHEELS+set}" && -d "${repo}/dist/extra-wheels" ]]; then
	KIOSK_EXTRA_WHEELS="${repo}/dist/extra-wheels"
fi

export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1
unset PIP_FIND_LINKS PIP_EXTRA_INDEX_URL PIP_NO_INDEX PIP_CONSTRAINT PIP_REQUIRE_VIRTUALENV PIP_TARGET

work="$(mktemp -d "${TMPDIR:-/tmp}/wheelhouse.XXXXXX")"
trap 'rm -rf "${work}"' EXIT

helper() { (cd "${repo}" && "${PYTHON}" -m "$@"); }

# Run pip; on failure say whether the index was unreachable or a package has no fitting wheel.
pip_step() {
	local what="$1"
	shift
	if "${PYTHON}" -m pip "$@" >"${work}/pip.log" 2>&1; then
		return 0
	fi
	cat "${work}/pip.log" >&2
	if grep -q 'is not a trusted or secure host' "${work}/pip.log"; then
		echo "wheelhouse: ${what}: pip ignored ${index} (plain http): use an https mirror, or set PIP_TRUSTED_HOST to its host" >&2
		exit 2
	fi
	if grep -Eq 'Retrying \(|Could not fetch URL|NewConnectionError|NameResolutionError|ProxyError|SSLError|ConnectTimeout|ReadTimeout|Network is unreachable' "${work}/pip.log"; then
		echo "wheelhouse: ${what} needs PyPI or a mirror (PIP_INDEX_URL); ${index} cannot be reached from here" >&2
		exit 2
	fi
	local missing
	missing="$(sed -n 's/^ERROR: No matching distribution found for //p' "${work}/pip.log" | head -n 1)"
	if [[ -n "${missing}" ]]; then
		echo "wheelhouse: ${what}: ${index} has no wheel of ${missing} for ${abi} ${target_platform} (or older manylinux/linux_aarch64)." >&2
		echo "  fix: build it on an arm64 Trixie builder (pip wheel --no-deps '${missing}'; docs/security.md) and set KIOSK_EXTRA_WHEELS to its folder" >&2
		exit 3
	fi
	echo "wheelhouse: ${what} failed (pip output above)" >&2
	exit 1
}

# Everything is made in a staging folder and copied to OUT_DIR only once complete.
stage="${work}/wheelhouse"
mkdir -p "${stage}"
clear_out() { rm -f "${out}"/*.whl "${out}/SHA256SUMS" "${out}/SHA256SUMS.sig" "${out}/constraints.txt"; }

# 1. Dependencies as aarch64/cp313 or pure wheels (never an sdist: nothing is compiled on this host).
extra_args=()
for extra in ${extras//,/ }; do extra_args+=(--extra "${extra}"); done
helper provisioning.updates.wheelhouse requirements --pyproject "${repo}/pyproject.toml" "${extra_args[@]}" \
	>"${work}/requirements.txt"
platform_args=()
while read -r platform; do platform_args+=(--platform "${platform}"); done < <(
	helper provisioning.updates.wheelhouse platforms --target-python "${target_python}" --target-platform "${target_platform}"
)
download=(download --index-url "${index}" --timeout "${WHEELHOUSE_TIMEOUT:-30}" --retries 2
	--only-binary=:all: --implementation cp --python-version "${target_python}" --abi "${abi}"
	"${platform_args[@]}" -d "${stage}" -r "${work}/requirements.txt")
if [[ -n "${KIOSK_EXTRA_WHEELS:-}" ]]; then
	[[ -d "${KIOSK_EXTRA_WHEELS}" ]] || {
		echo "wheelhouse: KIOSK_EXTRA_WHEELS=${KIOSK_EXTRA_WHEELS} is not a folder" >&2
		exit 1
	}
	download+=(--find-links "${KIOSK_EXTRA_WHEELS}")
fi
[[ -n "${WHEELHOUSE_CONSTRAINTS:-}" ]] && download+=(--constraint "${WHEELHOUSE_CONSTRAINTS}")
pip_step "downloading the dependencies" "${download[@]}"

# 2. The app's own wheel (pure Python), built from a copy of the working tree's package folders.
mkdir -p "${work}/src" "${work}/app"
(
	cd "${repo}"
	git ls-files -z --cached --others --exclude-standard -- pyproject.toml README.md \
		madoguchi kiosk_app device_drivers central_broker provisioning |
		while IFS= read -r -d '' file; do [[ -f "${file}" ]] && printf '%s\0' "${file}"; done |
		tar --null -T - -cf - | tar -xf - -C "${work}/src"
)
pip_step "building the app wheel" wheel --no-deps --index-url "${index}" --timeout "${WHEELHOUSE_TIMEOUT:-30}" \
	--retries 2 -w "${work}/app" "${work}/src"
app_wheels=("${work}"/app/madoguchi-*-py3-none-any.whl)
[[ -f "${app_wheels[0]}" ]] || {
	echo "wheelhouse: the app wheel is not pure Python: $(ls "${work}/app")" >&2
	exit 1
}
cp "${app_wheels[0]}" "${stage}/"
app_file="${app_wheels[0]##*/}"
version="${app_file#madoguchi-}"
version="${version%%-*}"

# 3. Pinned versions of everything but the app (reuse with WHEELHOUSE_CONSTRAINTS), then checksums.
for wheel in "${stage}"/*.whl; do
	IFS=- read -r name wheel_version _ <<<"${wheel##*/}"
	[[ "${name}" == madoguchi ]] || printf '%s==%s\n' "${name}" "${wheel_version}"
done | sort -f >"${stage}/constraints.txt"
helper provisioning.updates.sums write "${stage}"/*.whl "${stage}/constraints.txt" >/dev/null
clear_out
cp "${stage}"/* "${out}/"

# 4. What the kiosk will do, done here: resolve madoguchi[kiosk]==VERSION from OUT_DIR alone.
helper provisioning.updates.wheelhouse check "${out}" --app madoguchi --version "${version}" "${extra_args[@]}" \
	--target-python "${target_python}" --target-platform "${target_platform}" || {
	clear_out
	echo "wheelhouse: the result does not install offline on the kiosk (above); ${out} emptied" >&2
	exit 1
}
echo "wheelhouse: ${out} ($(find "${out}" -maxdepth 1 -name '*.whl' | wc -l) wheels, SHA256SUMS; sign it with python -m provisioning.updates.sums sign)"
