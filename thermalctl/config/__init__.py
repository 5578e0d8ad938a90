"""thermalctl.config."""
