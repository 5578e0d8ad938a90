"""thermalctl.kpi."""
