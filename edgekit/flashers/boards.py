"""A session on a real board: the flasher has programmed and reset it; the board keeps running
when the session ends. Its serial port comes from the profile ([transport] port_glob or url)."""

from __future__ import annotations

from edgekit.core.profile import DeviceProfile
from edgekit.flashers.base import BoardSession
from edgekit.transports.serial import SerialOptions, options_for_profile


class RealBoardSession(BoardSession):
    def __init__(self, profile: DeviceProfile) -> None:
        self.profile = profile

    def serial_options(self) -> SerialOptions:
        return options_for_profile(self.profile)

    def stop(self) -> None:
        pass  # nothing was started on the host; the board runs the new image
