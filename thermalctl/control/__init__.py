"""thermalctl.control."""
