"""thermalctl.sim."""
