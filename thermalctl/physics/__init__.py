"""thermalctl.physics."""
