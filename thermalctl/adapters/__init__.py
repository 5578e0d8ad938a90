"""thermalctl.adapters."""
