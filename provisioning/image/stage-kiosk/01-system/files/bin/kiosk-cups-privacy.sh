#!/bin/bash
# Make CUPS forget printed documents: certificate PDFs must not stay in the spool after printing.
#   kiosk-cups-privacy.sh [CUPSD_CONF]     (default /etc/cups/cupsd.conf; run by 01-system at image build)
# Sets these server directives (man cupsd.conf), replacing any earlier value outside <...> blocks:
#   PreserveJobFiles No       the document (spool d-file) is deleted as soon as the job is done
#                             (CUPS default: kept 86400 s)
#   PreserveJobHistory 300    the job record (c-file: state, owner, title, no document) is kept 5 minutes,
#                             so that the A4 driver's Get-Job-Attributes still sees `completed`, then purged
#                             (CUPS default: Yes = until MaxJobs); "No" would purge it at once and the driver
#                             would wait for a job that no longer exists
#   MaxJobs 100               at most 100 job records at all (default 500)
#   PageLogFormat             empty: no page_log line per page (job title, user)
#   Browsing No               do not advertise queues (avahi is masked on the kiosk anyway)
# Idempotent; keeps the file's mode and owner. Exit 1 when the file is missing.
set -euo pipefail

conf="${1:-/etc/cups/cupsd.conf}"
[[ -f "${conf}" ]] || {
	echo "kiosk-cups-privacy: ${conf} does not exist" >&2
	exit 1
}

settings=(
	"PreserveJobFiles No"
	"PreserveJobHistory 300"
	"MaxJobs 100"
	"PageLogFormat"
	"Browsing No"
)
names=""
for setting in "${settings[@]}"; do
	names+="${setting%% *} "
done

tmp="$(mktemp "${conf}.XXXXXX")"
trap 'rm -f "${tmp}"' EXIT
# Drop the managed directives at top level (cupsd reads directive names case-insensitively) and the block
# an earlier run appended, then append the block again.
awk -v names="${names}" '
	BEGIN { n = split(tolower(names), list, " "); for (i = 1; i <= n; i++) managed[list[i]] = 1 }
	/^# --- kiosk-cups-privacy begin/ { skip = 1; next }
	/^# --- kiosk-cups-privacy end/ { skip = 0; next }
	skip { next }
	/^[ \t]*<\// { depth--; print; next }
	/^[ \t]*</ { depth++; print; next }
	depth == 0 && NF > 0 && $1 !~ /^#/ && (tolower($1) in managed) { next }
	{ print }
' "${conf}" >"${tmp}"
{
	echo "# --- kiosk-cups-privacy begin (Madoguchi image: printed documents do not stay in the spool)"
	printf '%s\n' "${settings[@]}"
	echo "# --- kiosk-cups-privacy end"
} >>"${tmp}"
chmod --reference="${conf}" "${tmp}"
chown --reference="${conf}" "${tmp}"
mv -f "${tmp}" "${conf}"
trap - EXIT
