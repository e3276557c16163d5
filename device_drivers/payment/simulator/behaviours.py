"""Scripted terminal behaviours, one per hard case of the test matrix (reference §5)."""

from __future__ import annotations

import enum

__all__ = ["Behaviour"]


class Behaviour(enum.StrEnum):
    """What the simulated terminal does with the next SAL."""

    APPROVE = "approve"  # PRG phases, APPROVED (matrix 1)
    DECLINE = "decline"  # PRG phases, DECLINED
    CANCEL = "cancel"  # the resident presses cancel on the terminal: CANCELLED
    WAIT_CARD = "wait-card"  # waits for a card: CANCELLED on ABT, TIMEOUT after the card time-out
    ABORT_RACE = "abort-race"  # approves although ABT arrived while authorizing (matrix 15)
    SLOW = "slow"  # PRG every 60 s for 5 min, then APPROVED (matrix 8)
    LOST_ACK = "lost-ack"  # never ACKs the first SAL transmission (matrix 3)
    CORRUPT_SAL = "corrupt-sal"  # the first SAL arrives corrupted: NAK (matrix 2)
    NAK_STORM = "nak-storm"  # every SAL arrives corrupted: NAK x3 (matrix 4)
    CORRUPT_RES = "corrupt-res"  # the first RES is sent with a bad LRC (matrix 5)
    LOST_KIOSK_ACK = "lost-kiosk-ack"  # acts as if the kiosk's ACK of RES was lost: resends (matrix 6)
    LOST_RESULT = "lost-result"  # approves, then goes silent; answers INQ (matrix 7)
    STALL = "stall"  # stalls > 200 ms in the middle of the first PRG (matrix 9)
    GARBAGE = "garbage"  # line noise and stray STX/ETX before every frame (matrix 10)
    UNPLUG = "unplug"  # approves, then closes the pty master; re-plugs on a new pty (matrix 11)
    REBOOT = "reboot"  # approves, then reboots forgetting everything but its result store (matrix 13)
    EMONEY_UNKNOWN = "emoney-unknown"  # e-money 処理未了: UNKNOWN with the balance before (matrix 16)
    LEAK_PAN = "leak-pan"  # a faulty terminal that sends an unmasked card number

    @property
    def description(self) -> str:
        """One line for --help."""
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    Behaviour.APPROVE: "show the phases and approve",
    Behaviour.DECLINE: "show the phases and decline",
    Behaviour.CANCEL: "the resident cancels on the terminal",
    Behaviour.WAIT_CARD: "wait for a card until ABT or the card time-out",
    Behaviour.ABORT_RACE: "approve although ABT arrives while authorizing",
    Behaviour.SLOW: "send PRG every 60 s for 5 minutes, then approve",
    Behaviour.LOST_ACK: "do not ACK the first SAL",
    Behaviour.CORRUPT_SAL: "receive the first SAL corrupted (NAK)",
    Behaviour.NAK_STORM: "receive every SAL corrupted (NAK)",
    Behaviour.CORRUPT_RES: "send the first RES with a bad checksum",
    Behaviour.LOST_KIOSK_ACK: "miss the kiosk's ACK of RES and resend it",
    Behaviour.LOST_RESULT: "approve, then never send RES",
    Behaviour.STALL: "stall mid-frame for longer than the inter-byte timer",
    Behaviour.GARBAGE: "send line noise and stray STX/ETX between frames",
    Behaviour.UNPLUG: "approve, then close the pty master and re-plug on a new pty",
    Behaviour.REBOOT: "approve, then reboot forgetting all but the result store",
    Behaviour.EMONEY_UNKNOWN: "e-money 処理未了: deduct, then report UNKNOWN with the balance",
    Behaviour.LEAK_PAN: "approve but send the full card number (a faulty terminal)",
}
