"""Excel export of valuations: workbooks whose every computed figure is a live formula.

styles.py       fonts, fills and number formats (inputs blue, formulas black)
sheet_inputs.py the "Inputs" sheet: one labelled, named cell per driver
sheet_dcf.py    the "DCF" sheet: the projection, terminal value, bridge and diluted shares
xlsx.py         the public entry points: ``dcf_workbook``, ``dcf_xlsx`` (+ summary, sensitivity)
service.py      a stored valuation version, or stateless inputs, to ``(filename, bytes)``
api.py cli.py   the routes and ``novacron corporate valuations export``
"""
