#!/usr/bin/env bats
# kiosk-udev-rules.sh: stable /dev/kiosk names from VID:PID[:SERIAL].

load helpers

@test "payment with serial and printer without serial give one rule each, ids lower-cased" {
	KIOSK_PAYMENT_USB=0403:6001:A10K5XQ2 KIOSK_PRINTER_USB=0416:5011 KIOSK_SCANNER_USB='' \
		run "${SCRIPTS}/kiosk-udev-rules.sh"
	[ "$status" -eq 0 ]
	[[ "$output" == *'SUBSYSTEM=="tty", ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6001", ATTRS{serial}=="A10K5XQ2", SYMLINK+="kiosk/payment", GROUP="dialout", MODE="0660"'* ]]
	[[ "$output" == *'ENV{DEVTYPE}=="usb_device", ATTRS{idVendor}=="0416", ATTRS{idProduct}=="5011", SYMLINK+="kiosk/printer", GROUP="lp"'* ]]
	[[ "$output" != *"kiosk/scanner"* ]]
	[[ "$(grep -c SYMLINK <<<"$output")" -eq 2 ]]
}

@test "hex ids are lower-cased and a port path pins adapters that share serials" {
	KIOSK_SCANNER_USB=067B:2303 KIOSK_SCANNER_PATH=platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.3:1.0 \
		KIOSK_PRINTER_USB='' run "${SCRIPTS}/kiosk-udev-rules.sh"
	[ "$status" -eq 0 ]
	[[ "$output" == *'ATTRS{idVendor}=="067b", ATTRS{idProduct}=="2303", ENV{ID_PATH}=="platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.3:1.0", SYMLINK+="kiosk/scanner"'* ]]
}

@test "a malformed id is refused with the expected form" {
	KIOSK_PAYMENT_USB=403:6001 run "${SCRIPTS}/kiosk-udev-rules.sh"
	[ "$status" -eq 2 ]
	[[ "$output" == *"payment: '403:6001' is not VID:PID[:SERIAL]"* ]]
}

@test "a serial with quotes cannot inject udev syntax" {
	KIOSK_PAYMENT_USB='0403:6001:A1", RUN+="/bin/sh' run "${SCRIPTS}/kiosk-udev-rules.sh"
	[ "$status" -eq 2 ]
	[[ "$output" == *"may only contain letters"* ]]
}
