"""thermalctl.runtime."""
