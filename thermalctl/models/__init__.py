"""The site model: one model per sink kind, the heat loop, the signal catalogue, local time.

Pure like :mod:`thermalctl.physics` and :mod:`thermalctl.control`: no adapter, no
runtime, no network library, no file I/O. The plant (:mod:`thermalctl.sim`), the
planner and the forecaster (:mod:`thermalctl.control`) and the safety layer all
take their physics, coefficients and vocabulary from here.
"""
