"""thermalctl: turn the waste heat of small data centres into useful heat."""

__version__ = "0.1.0"
