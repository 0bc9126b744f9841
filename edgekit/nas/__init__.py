"""Constrained, hardware-in-the-loop architecture search (`edgekit search`).

Pipeline: space (space.py, nb201.py) -> supernet trained once (supernet.py, train.py) ->
strategy proposals (strategies/) -> candidates trained from scratch, int8, firmware, measured on
the device (candidate.py, measure.py, hil.py) -> winner decided on measured figures -> outputs
(report.py). Entry point: ``edgekit.nas.run.run_search(SearchOptions(...))``.
"""
