"""thermalctl.reports."""
