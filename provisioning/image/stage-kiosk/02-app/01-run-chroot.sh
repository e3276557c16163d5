#!/bin/bash -e
# In the image (chroot): the kiosk user, the app venv built from the baked wheels, enabled units.
# pi-gen feeds this file to bash inside ${ROOTFS_DIR}; the KIOSK_* variables come from the config.

version="${KIOSK_APP_VERSION:?set KIOSK_APP_VERSION}"
requirement="${KIOSK_APP_REQUIREMENT:?set KIOSK_APP_REQUIREMENT}"
release="/opt/madoguchi/releases/${version}"

for group in video render input dialout lp; do
	getent group "${group}" >/dev/null || groupadd --system "${group}"
done
if ! id kiosk >/dev/null 2>&1; then
	useradd --system --create-home --home-dir /var/lib/kiosk --shell /usr/sbin/nologin \
		--groups video,render,input,dialout,lp --comment "Madoguchi kiosk" kiosk
fi

python3 -m venv "${release}/venv"
"${release}/venv/bin/pip" install --quiet --no-index --no-cache-dir --disable-pip-version-check \
	--find-links "${release}/wheels" "${requirement}"
printf '{"version": "%s", "requirement": "%s", "source": "image"}\n' "${version}" "${requirement}" \
	>"${release}/manifest.json"

systemctl enable kiosk-data.service data.mount kiosk-data-layout.service kiosk-journal.service kiosk-enrol.service \
	kiosk-overlay.service kiosk-ui.service kiosk-pair.service kiosk-update.path kiosk-renew.timer systemd-time-wait-sync.service pcscd.socket
systemctl mask getty@tty1.service
