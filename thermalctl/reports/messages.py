"""The report's message catalogue: every label, heading and explanation, in English and German.

Keys are dotted names; each maps to ``{"en": ..., "de": ...}`` with ``str.format``
fields. The German follows the wording of the German texts it cites (EnEfG;
Delegierte Verordnung (EU) 2024/1364) where there is one.
"""

from __future__ import annotations

__all__ = ["MESSAGES"]


def _m(en: str, de: str) -> dict[str, str]:
    return {"en": en, "de": de}


_DATA_CENTRE_BOUNDARY = (
    "Data-centre boundary per ISO/IEC 30134-2: rack groups {groups}, coolant loop, heat "
    "exchanger and dry cooler. Reused heat (ISO/IEC 30134-6) is the heat delivered across "
    "the boundary to: {sinks}."
)
_RZ_GRENZE = (
    "Grenze des Rechenzentrums nach ISO/IEC 30134-2: Rackgruppen {groups}, Kühlkreislauf, "
    "Wärmeübertrager und Rückkühler. Wiederverwendete Energie (ISO/IEC 30134-6) ist die über "
    "die Grenze abgegebene Wärme an: {sinks}."
)

MESSAGES: dict[str, dict[str, str]] = {
    # -- document ------------------------------------------------------------------------
    "title": _m("Energy and heat-reuse report: {site}",
                "Bericht zu Energieverbrauch und Abwärmenutzung: {site}"),
    "heading.report": _m("Energy and heat-reuse report",
                         "Bericht zu Energieverbrauch und Abwärmenutzung"),
    "cover.subtitle": _m(
        "Site, data origin, applicable rules and key figures for the reporting period",
        "Standort, Herkunft der Daten, anwendbare Vorschriften und Kennzahlen des "
        "Berichtszeitraums"),
    "footer": _m("thermalctl energy report · {id}", "thermalctl Energiebericht · {id}"),
    "page": _m("page {n}", "Seite {n}"),
    "period": _m("{start} to {end} ({tz}), end exclusive",
                 "{start} bis {end} ({tz}), Ende ausschließlich"),
    "na": _m("not available", "nicht verfügbar"),
    # -- data origin ---------------------------------------------------------------------
    "origin.measured": _m("measured (meter counters)", "gemessen (Zählerstände)"),
    "origin.simulated": _m("simulated (thermalctl demo / simulate), not measured at the site",
                           "simuliert (thermalctl demo / simulate), nicht am Standort gemessen"),
    "origin.projected": _m("projected (feasibility study), not measured",
                           "prognostiziert (Machbarkeitsstudie), nicht gemessen"),
    "origin.mixed": _m("mixed: simulated and measured counters in one store",
                       "gemischt: simulierte und gemessene Zählerstände in einem Speicher"),
    "origin.line": _m("Data: {origin}", "Daten: {origin}"),
    "banner.measured": _m(
        "Measured data: every energy is the difference of the site's meter counters over the "
        "period.",
        "Gemessene Daten: jede Energiemenge ist die Differenz der Zählerstände des Standorts "
        "über den Zeitraum."),
    "banner.simulated": _m(
        "SIMULATED DATA: every figure in this report comes from the thermalctl simulator, not "
        "from the site's meters. It is not a measurement and must not be submitted as one.",
        "SIMULIERTE DATEN: alle Werte dieses Berichts stammen aus dem thermalctl-Simulator, "
        "nicht von den Zählern des Standorts. Sie sind keine Messung und dürfen nicht als "
        "solche eingereicht werden."),
    "banner.projected": _m(
        "PROJECTION: the figures are expected values from a simulation of the planned site "
        "(feasibility study), not measurements.",
        "PROGNOSE: die Werte sind erwartete Werte aus einer Simulation des geplanten Standorts "
        "(Machbarkeitsstudie), keine Messwerte."),
    "banner.mixed": _m(
        "MIXED DATA: the store holds simulated counters (thermalctl demo) and measured ones; "
        "the figures are not the site's and must not be submitted as measurements.",
        "GEMISCHTE DATEN: der Speicher enthält simulierte (thermalctl demo) und gemessene "
        "Zählerstände; die Werte sind nicht die des Standorts und dürfen nicht als Messung "
        "eingereicht werden."),
    # -- headings ------------------------------------------------------------------------
    "heading.site": _m("Site and measurement boundary", "Standort und Messgrenze"),
    "heading.scope": _m("Which rules apply", "Anwendbare Vorschriften"),
    "heading.applicability": _m("Applicability", "Anwendbarkeit"),
    "heading.key_figures": _m("Key figures for the whole period",
                              "Kennzahlen für den gesamten Zeitraum"),
    "heading.meters_quality": _m("Meters and data quality", "Zähler und Datenqualität"),
    "heading.meters": _m("Meters and sensors", "Zähler und Sensoren"),
    "heading.quality": _m("Data quality", "Datenqualität"),
    "heading.gaps": _m("Longest data gaps (times in {tz})",
                       "Längste Datenlücken (Zeiten in {tz})"),
    "heading.monthly": _m("Monthly energy and KPI table",
                          "Monatliche Energie- und Kennzahlentabelle"),
    "heading.heat_balance": _m("Heat balance and avoided backup energy",
                               "Wärmebilanz und vermiedene Energie der Ersatzheizung"),
    "heading.charts_load": _m("Load diagram and seasonal thermal profile",
                              "Lastgang und jahreszeitliches Wärmeprofil"),
    "heading.charts_flows": _m("Heat flows and PUE / ERF trend",
                               "Wärmeflüsse und Verlauf von PUE / ERF"),
    "heading.regulatory": _m("Applicability and EU reporting fields",
                             "Anwendbarkeit und EU-Meldefelder"),
    "heading.enefg_page": _m("Germany: EnEfG § 11 check", "Deutschland: Prüfung nach EnEfG § 11"),
    "heading.eu": _m("EU reporting fields ({ref})", "EU-Meldefelder ({ref})"),
    "heading.enefg": _m("Germany, EnEfG § 11: targets by commissioning date ({commissioned})",
                        "Deutschland, EnEfG § 11: Anforderungen nach Datum der Inbetriebnahme "
                        "({commissioned})"),
    "eu.period_note": _m(
        "Values for the report period; the regulation asks for calendar years.",
        "Werte für den Berichtszeitraum; die Verordnung verlangt Kalenderjahre."),
    "smallprint.enefg": _m(
        "EnEfG § 11 asks for annual averages; on a shorter period a status is indicative. "
        "Electricity used only to upgrade waste heat (heat pumps) is left out of the PUE "
        "(§ 11 (2) Satz 3). The duties apply to data centres from 300 kW non-redundant "
        "connected load (§ 3 Nr. 24); EU reporting applies from 500 kW installed IT power "
        "(Directive (EU) 2023/1791 Art. 12 (1)).",
        "EnEfG § 11 verlangt Jahresdurchschnitte; für einen kürzeren Zeitraum ist ein Status "
        "nur ein Hinweis. Der Stromeinsatz von Anlagen, die ausschließlich der Aufwertung der "
        "Abwärme dienen (Wärmepumpen), bleibt bei der PUE unberücksichtigt (§ 11 Abs. 2 "
        "Satz 3). Die Pflichten gelten für Rechenzentren ab 300 kW nicht redundanter "
        "elektrischer Nennanschlussleistung (§ 3 Nr. 24); die EU-Meldepflicht gilt ab 500 kW "
        "installierter IT-Leistung (Richtlinie (EU) 2023/1791 Art. 12 Abs. 1)."),
    # -- site facts ----------------------------------------------------------------------
    "fact.site": _m("Site", "Standort"),
    "fact.origin": _m("Data origin", "Herkunft der Daten"),
    "fact.operator": _m("Operator", "Betreiber"),
    "fact.address": _m("Address", "Anschrift"),
    "fact.commissioned": _m("Commissioned", "Inbetriebnahme"),
    "fact.period": _m("Reporting period", "Berichtszeitraum"),
    "fact.it_power": _m("Installed IT power", "Installierte IT-Leistung"),
    "fact.area": _m("Floor area", "Fläche"),
    "fact.category": _m("PUE measurement category", "Messkategorie der PUE"),
    "fact.boundary": _m("Measurement boundary", "Messgrenze"),
    "fact.setpoints": _m("Temperature set points", "Temperatursollwerte"),
    "fact.backup": _m("Backup heater (avoided energy)", "Ersatzheizung (vermiedene Energie)"),
    "fact.renewable": _m("Contracted renewable share", "Vertraglicher Anteil erneuerbarer Energie"),
    "fact.waste_heat": _m("Average waste-heat temperature", "Mittlere Abwärmetemperatur"),
    "category.1": _m("Category 1 (basic): E_IT measured at the UPS output",
                     "Kategorie 1 (Basis): E_IT am Ausgang der USV gemessen"),
    "category.2": _m("Category 2 (intermediate): E_IT measured at the PDU output",
                     "Kategorie 2 (mittel): E_IT am Ausgang der PDU gemessen"),
    "category.3": _m("Category 3 (advanced): E_IT measured at the IT equipment input",
                     "Kategorie 3 (erweitert): E_IT am Eingang der IT-Geräte gemessen"),
    "boundary": _m(_DATA_CENTRE_BOUNDARY, _RZ_GRENZE),
    "sink.pool": _m("pool", "Schwimmbecken"),
    "sink.dhw": _m("hot-water preheat", "Trinkwasservorwärmung"),
    "sink.space_heating": _m("space heating", "Raumheizung"),
    "backup": _m("{kind} ({fuel}), efficiency/COP {efficiency}",
                 "{kind} ({fuel}), Wirkungsgrad/COP {efficiency}"),
    "backup.gas_boiler": _m("gas boiler", "Gaskessel"),
    "backup.heat_pump": _m("heat pump", "Wärmepumpe"),
    "backup.electric": _m("electric heater", "Elektroheizung"),
    "fuel.gas": _m("gas", "Erdgas"),
    "fuel.electricity": _m("electricity", "Strom"),
    "cooling.immersion": _m("immersion", "Immersionskühlung"),
    "cooling.direct_to_chip": _m("direct-to-chip", "Direktflüssigkeitskühlung"),
    "cooling.rear_door": _m("rear-door heat exchanger", "Rücktür-Wärmeübertrager"),
    "cooling.air": _m("air", "Luftkühlung"),
    "setpoint.liquid": _m("{group} ({cooling}): coolant supply {temp} °C",
                          "{group} ({cooling}): Kühlmittelvorlauf {temp} °C"),
    "setpoint.air": _m(
        "{group} ({cooling}): computer-room air set point not in the site profile",
        "{group} ({cooling}): Sollwert der Raumluft nicht im Standortprofil"),
    # -- key figures ---------------------------------------------------------------------
    "sum.edc": _m("Total facility energy E_DC", "Gesamtenergieverbrauch E_DC"),
    "sum.eit": _m("IT energy E_IT", "Energieverbrauch der IT E_IT"),
    "sum.ereuse": _m("Reused heat E_REUSE", "Wiederverwendete Energie E_REUSE"),
    "sum.pue": _m("PUE = E_DC / E_IT (ISO/IEC 30134-2)",
                  "PUE (Energieverbrauchseffektivität) = E_DC / E_IT (ISO/IEC 30134-2)"),
    "sum.erf": _m("ERF = E_REUSE / E_DC (ISO/IEC 30134-6)",
                  "ERF (Anteil wiederverwendeter Energie) = E_REUSE / E_DC (ISO/IEC 30134-6)"),
    "sum.ere": _m("ERE = (E_DC - E_REUSE) / E_IT (The Green Grid)",
                  "ERE = (E_DC - E_REUSE) / E_IT (The Green Grid)"),
    "sum.wue": _m("WUE = water input / E_IT", "WUE = Wasserzufuhr / E_IT"),
    "sum.ref": _m("REF = renewable energy / E_DC", "REF = erneuerbare Energie / E_DC"),
    "sum.avoided_fuel": _m("Backup fuel avoided", "Vermiedener Brennstoff der Ersatzheizung"),
    "sum.avoided_cost": _m("Backup fuel cost avoided", "Vermiedene Brennstoffkosten"),
    "sum.avoided_co2": _m("CO2 avoided", "Vermiedenes CO2"),
    "sum.completeness": _m("Data completeness (period covered by samples)",
                           "Datenvollständigkeit (durch Messwerte abgedeckter Zeitanteil)"),
    # -- column headers ------------------------------------------------------------------
    "col.item": _m("Item", "Angabe"),
    "col.value": _m("Value", "Wert"),
    "col.unit": _m("Unit", "Einheit"),
    "col.indicator": _m("Indicator", "Kennzahl"),
    "col.period": _m("Period", "Zeitraum"),
    "col.facility_energy_kwh": _m("E_DC [kWh]", "E_DC [kWh]"),
    "col.it_energy_kwh": _m("E_IT [kWh]", "E_IT [kWh]"),
    "col.reused_energy_kwh": _m("E_REUSE [kWh]", "E_REUSE [kWh]"),
    "col.dumped_energy_kwh": _m("Dumped [kWh]", "Rückgekühlt [kWh]"),
    "col.backup_energy_kwh": _m("Backup heat [kWh]", "Ersatzwärme [kWh]"),
    "col.heat_demand_kwh": _m("Heat demand [kWh]", "Wärmebedarf [kWh]"),
    "col.heat_supply_kwh": _m("DC heat [kWh]", "RZ-Wärme [kWh]"),
    "col.lost_heat_kwh": _m("Lost [kWh]", "Verlust [kWh]"),
    "col.pue": _m("PUE", "PUE"),
    "col.erf": _m("ERF", "ERF"),
    "col.ere": _m("ERE", "ERE"),
    "col.wue_l_per_kwh": _m("WUE [L/kWh]", "WUE [L/kWh]"),
    "col.ref": _m("REF", "REF"),
    "col.avoided_backup_energy_kwh": _m("Avoided fuel [kWh]", "Verm. Brennstoff [kWh]"),
    "col.avoided_cost_eur": _m("Avoided cost [EUR]", "Verm. Kosten [EUR]"),
    "col.avoided_co2_kg": _m("Avoided CO2 [kg]", "Verm. CO2 [kg]"),
    "col.completeness_pct": _m("Data [%]", "Daten [%]"),
    "col.estimated": _m("Estimated", "Geschätzt"),
    "col.origin": _m("Data", "Daten"),
    "col.field": _m("Field", "Feld"),
    "col.symbol": _m("Symbol", "Symbol"),
    "col.source": _m("Source", "Quelle"),
    "col.reference": _m("Reference", "Fundstelle"),
    "col.requirement": _m("Requirement", "Anforderung"),
    "col.citation": _m("Citation", "Fundstelle"),
    "col.threshold": _m("Threshold", "Grenzwert"),
    "col.applies_from": _m("Applies from", "Gilt ab"),
    "col.applicable": _m("Applicable", "Anwendbar"),
    "col.status": _m("Status", "Status"),
    "col.rule": _m("Rule", "Vorschrift"),
    "col.criterion": _m("Criterion", "Kriterium"),
    "col.site_value": _m("Site", "Standort"),
    "col.reason": _m("Reason", "Begründung"),
    "col.start": _m("Start", "Beginn"),
    "col.end": _m("End", "Ende"),
    "col.duration_s": _m("Duration", "Dauer"),
    "col.meter": _m("Meter", "Zähler"),
    "col.model": _m("Model (map)", "Modell (Registerplan)"),
    "col.connection": _m("Connection", "Anbindung"),
    "col.signals": _m("Measures", "Messgrößen"),
    "col.serial": _m("Serial number", "Seriennummer"),
    "col.calibrated": _m("Calibrated", "Kalibriert"),
    # -- codes ---------------------------------------------------------------------------
    "code.yes": _m("yes", "ja"),
    "code.no": _m("no", "nein"),
    "code.check": _m("to check", "zu prüfen"),
    "code.not yet": _m("not yet", "noch nicht"),
    "code.total": _m("total", "gesamt"),
    # -- meters --------------------------------------------------------------------------
    "meter.mqtt": _m("MQTT sensor", "MQTT-Sensor"),
    "meter.no_signals": _m("no signals bound", "keine Signale zugeordnet"),
    "meter.not_in_profile": _m("not in the site profile", "nicht im Standortprofil"),
    "meter.none": _m("No meters are listed in the site profile.",
                     "Im Standortprofil sind keine Zähler eingetragen."),
    "meter.untraceable": _m(
        "A meter without serial number or calibration date cannot be traced to its "
        "calibration certificate: add 'serial' and 'calibrated' (YYYY-MM-DD) to the device "
        "in the site profile.",
        "Ein Zähler ohne Seriennummer oder Kalibrierdatum lässt sich keinem Kalibrierschein "
        "zuordnen: 'serial' und 'calibrated' (JJJJ-MM-TT) beim Gerät im Standortprofil "
        "eintragen."),
    # -- data quality --------------------------------------------------------------------
    "note.counters": _m(
        "Energies are differences of the meters' cumulative registers; every ratio is the "
        "ratio of the period's sums, not a mean of shorter-period ratios.",
        "Energiemengen sind Differenzen der kumulierten Zählerregister; jedes Verhältnis ist "
        "das Verhältnis der Summen des Zeitraums, nicht ein Mittel kürzerer Zeiträume."),
    "note.gap_rule": _m(
        "A gap is an interval between samples longer than {threshold}; counters carry the "
        "energy across a gap, but its split between periods is interpolated.",
        "Eine Lücke ist ein Abstand zwischen Messwerten von mehr als {threshold}; die Zähler "
        "erfassen die Energie über die Lücke hinweg, ihre Aufteilung auf Zeiträume ist "
        "interpoliert."),
    "note.gaps": _m(
        "{count} data gap(s), {total} in total; the longest from {start} to {end} "
        "({duration}); times in {tz}.",
        "{count} Datenlücke(n), insgesamt {total}; die längste von {start} bis {end} "
        "({duration}); Zeiten in {tz}."),
    "note.no_gaps": _m("No data gaps in the period.", "Keine Datenlücken im Zeitraum."),
    "note.estimated": _m("Estimated: {reason}.", "Geschätzt: {reason}."),
    "event": _m("{column}: {text} at {time} ({tz}).", "{column}: {text} am {time} ({tz})."),
    "event.wrap": _m("register wrap at {rollover}", "Registerüberlauf bei {rollover}"),
    "event.glitch": _m("one implausible low reading ({value}) replaced by interpolation",
                       "ein unplausibel niedriger Wert ({value}) durch Interpolation ersetzt"),
    "event.reset": _m(
        "meter reset (counted from zero; energy before the reset is a lower bound)",
        "Zählerrücksetzung (ab null gezählt; die Energie vor der Rücksetzung ist eine "
        "Untergrenze)"),
    "reason.edge_gap": _m("a gap spans the period edge: energy split by linear interpolation",
                          "eine Lücke überdeckt die Grenze des Zeitraums: Energie linear "
                          "interpoliert aufgeteilt"),
    "reason.reset": _m("meter reset of {column} at {time}",
                       "Zählerrücksetzung von {column} am {time}"),
    "reason.glitch": _m("interpolated glitch of {column} at {time}",
                        "interpolierter Ausreißer von {column} am {time}"),
    "reason.integrated": _m("{column} integrated from power",
                            "{column} aus der Leistung integriert"),
    # -- applicability -------------------------------------------------------------------
    "scope.rule.operation": _m("Operation in the period", "Betrieb im Zeitraum"),
    "scope.rule.enefg": _m("EnEfG data-centre duties (§ 11)",
                           "Pflichten für Rechenzentren nach EnEfG (§ 11)"),
    "scope.rule.eed": _m("EU data-centre reporting (EED)",
                         "EU-Meldepflicht für Rechenzentren (EED)"),
    "scope.criterion.operation": _m("commissioned ({commissioned}) before the period",
                                    "Inbetriebnahme ({commissioned}) vor dem Zeitraum"),
    "scope.criterion.enefg": _m(">= 300 kW non-redundant connected load",
                                ">= 300 kW nicht redundante Nennanschlussleistung"),
    "scope.criterion.eed": _m(">= 500 kW installed IT power", ">= 500 kW installierte IT-Leistung"),
    "scope.operation.yes": _m(
        "the data centre was in operation for the whole period (commissioned {commissioned})",
        "das Rechenzentrum war im ganzen Zeitraum in Betrieb (Inbetriebnahme {commissioned})"),
    "scope.operation.before": _m(
        "the period ends before commissioning on {commissioned}: the data centre was not yet "
        "in operation",
        "der Zeitraum endet vor der Inbetriebnahme am {commissioned}: das Rechenzentrum war "
        "noch nicht in Betrieb"),
    "scope.operation.partly": _m(
        "the period starts ({first}) before commissioning on {commissioned}: the days before "
        "it are not operation of the data centre",
        "der Zeitraum beginnt ({first}) vor der Inbetriebnahme am {commissioned}: die Tage "
        "davor sind kein Betrieb des Rechenzentrums"),
    "scope.enefg.yes": _m(
        "the installed IT power of {power_kw} kW alone reaches {threshold_kw} kW "
        "(EnEfG § 3 Nr. 24)",
        "bereits die installierte IT-Leistung von {power_kw} kW erreicht {threshold_kw} kW "
        "(EnEfG § 3 Nr. 24)"),
    "scope.enefg.no": _m(
        "the installed IT power of {power_kw} kW is below the {threshold_kw} kW non-redundant "
        "connected load from which the act counts a data centre (EnEfG § 3 Nr. 24), and "
        "stays below it even with cooling and building services as large as the IT load "
        "({bound_kw} kW)",
        "die installierte IT-Leistung von {power_kw} kW liegt unter der nicht redundanten "
        "Nennanschlussleistung von {threshold_kw} kW, ab der das Gesetz ein Rechenzentrum "
        "erfasst (EnEfG § 3 Nr. 24), auch wenn Kühlung und Gebäudetechnik so viel Leistung "
        "wie die IT aufnehmen ({bound_kw} kW)"),
    "scope.enefg.no.short": _m(
        "the site is below {threshold_kw} kW connected load (EnEfG § 3 Nr. 24)",
        "der Standort liegt unter {threshold_kw} kW Nennanschlussleistung (EnEfG § 3 Nr. 24)"),
    "scope.operation.before.short": _m(
        "the period ends before commissioning ({commissioned})",
        "der Zeitraum endet vor der Inbetriebnahme ({commissioned})"),
    "scope.enefg.check": _m(
        "the installed IT power of {power_kw} kW is below {threshold_kw} kW, but the "
        "non-redundant connected load with cooling and building services may reach it "
        "(EnEfG § 3 Nr. 24): check the ordered grid capacity",
        "die installierte IT-Leistung von {power_kw} kW liegt unter {threshold_kw} kW, die "
        "nicht redundante Nennanschlussleistung mit Kühlung und Gebäudetechnik kann sie aber "
        "erreichen (EnEfG § 3 Nr. 24): vertraglich vereinbarte Anschlussleistung prüfen"),
    "scope.eed.yes": _m(
        "the installed IT power of {power_kw} kW reaches {threshold_kw} kW: yearly report to "
        "the European database (Directive (EU) 2023/1791 Art. 12 (1))",
        "die installierte IT-Leistung von {power_kw} kW erreicht {threshold_kw} kW: jährliche "
        "Meldung an die europäische Datenbank (Richtlinie (EU) 2023/1791 Art. 12 Abs. 1)"),
    "scope.eed.no": _m(
        "the installed IT power of {power_kw} kW is below {threshold_kw} kW (Directive (EU) "
        "2023/1791 Art. 12 (1)); the fields are shown for information",
        "die installierte IT-Leistung von {power_kw} kW liegt unter {threshold_kw} kW "
        "(Richtlinie (EU) 2023/1791 Art. 12 Abs. 1); die Felder sind zur Information "
        "angegeben"),
    # -- EnEfG targets -------------------------------------------------------------------
    "enefg.pue15": _m("PUE <= 1.5, annual average (commissioned before 1 July 2026)",
                      "PUE <= 1,5 im Jahresdurchschnitt (Inbetriebnahme vor dem 1. Juli 2026)"),
    "enefg.pue13": _m("PUE <= 1.3, annual average (commissioned before 1 July 2026)",
                      "PUE <= 1,3 im Jahresdurchschnitt (Inbetriebnahme vor dem 1. Juli 2026)"),
    "enefg.pue12": _m("PUE <= 1.2, annual average, within two years of commissioning",
                      "PUE <= 1,2 im Jahresdurchschnitt, spätestens zwei Jahre nach "
                      "Inbetriebnahme"),
    "enefg.erf": _m(
        "ERF >= {share} (DIN EN 50600-4-6), commissioned from {tier}, within two years",
        "Anteil wiederverwendeter Energie >= {share} (DIN EN 50600-4-6), Inbetriebnahme ab "
        "{tier}, spätestens nach zwei Jahren"),
    "enefg.exemptions": _m("exemptions § 11 (3)", "Ausnahmen § 11 Abs. 3"),
    "enefg.res50": _m("Renewable electricity >= 50 % of consumption (balance)",
                      "Strom aus erneuerbaren Energien >= 50 % des Verbrauchs (bilanziell)"),
    "enefg.res100": _m("Renewable electricity 100 % of consumption (balance)",
                       "Strom aus erneuerbaren Energien 100 % des Verbrauchs (bilanziell)"),
    "status.met": _m("met", "erfüllt"),
    "status.not_met": _m("not met", "nicht erfüllt"),
    "status.not_assessable": _m("not assessable (no value)", "nicht bewertbar (kein Wert)"),
    "status.not_yet": _m("not yet applicable", "noch nicht anzuwenden"),
    "status.check": _m("applicability to be checked (see scope)",
                       "Anwendbarkeit zu prüfen (siehe Anwendbarkeit)"),
    "status.not_applicable": _m("not applicable because {reason}",
                                "nicht anzuwenden, weil {reason}"),
    "status.would_be_met": _m(" (would be met)", " (wäre erfüllt)"),
    "status.would_not": _m(" (would not be met)", " (wäre nicht erfüllt)"),
    # -- EU fields -----------------------------------------------------------------------
    "eu.pdit": _m("Installed information technology power demand",
                  "Installierte Leistungsaufnahme der Informationstechnik"),
    "eu.area": _m("Total data centre floor area", "Gesamtfläche des Rechenzentrums"),
    "eu.edc": _m("Total energy consumption", "Gesamtenergieverbrauch"),
    "eu.eit": _m("Total energy consumption of the IT equipment",
                 "Energieverbrauch der IT-Ausrüstung"),
    "eu.ereuse": _m("Waste heat reused", "Wiederverwendete Abwärme"),
    "eu.waste_heat_temp": _m("Average waste heat temperature", "Mittlere Abwärmetemperatur"),
    "eu.setpoints": _m("Temperature set points", "Temperatursollwerte"),
    "eu.setpoints.liquid": _m("coolant supply (liquid-cooled racks)",
                              "Kühlmittelvorlauf (flüssigkeitsgekühlte Racks)"),
    "eu.setpoints.air": _m("computer-room air (air-cooled racks)",
                           "Raumluft (luftgekühlte Racks)"),
    "eu.water": _m("Total water input", "Gesamtwasserzufuhr"),
    "eu.potable": _m("Total potable water input", "Trinkwasserzufuhr"),
    "eu.renewable": _m("Total renewable energy consumption",
                       "Gesamtverbrauch erneuerbarer Energie"),
    "eu.renewable_split": _m("Renewable energy from guarantees of origin / PPAs / on-site",
                             "Erneuerbare Energie aus Herkunftsnachweisen / PPA / Eigenerzeugung"),
    "eu.traffic": _m("Incoming and outgoing data traffic; data stored",
                     "Ein- und ausgehender Datenverkehr; gespeicherte Daten"),
    "eu.pue": _m("Power usage effectiveness", "Energieverbrauchseffektivität"),
    "eu.wue": _m("Water usage effectiveness", "Wassernutzungseffektivität"),
    "eu.erf": _m("Energy reuse factor", "Anteil wiederverwendeter Energie"),
    "eu.ref": _m("Renewable energy factor", "Anteil erneuerbarer Energie"),
    "source.measured": _m("measured (meter counters)", "gemessen (Zählerstände)"),
    "source.simulated": _m("simulated (thermalctl demo / simulate)",
                           "simuliert (thermalctl demo / simulate)"),
    "source.projected": _m("projected (feasibility study)",
                           "prognostiziert (Machbarkeitsstudie)"),
    "source.mixed": _m("mixed (simulated and measured counters)",
                       "gemischt (simulierte und gemessene Zählerstände)"),
    "source.profile": _m("site profile", "Standortprofil"),
    "source.site_data": _m("site data", "Standortangabe"),
    "source.not_in_profile": _m("not in the site profile", "nicht im Standortprofil"),
    "source.not_measured": _m("not measured by thermalctl", "von thermalctl nicht gemessen"),
    "source.heat_meters": _m("{data}: heat meters at the boundary",
                             "{data}: Wärmezähler an der Grenze"),
    "source.setpoint.liquid": _m(
        "site profile (heat_loop.supply_temp_setpoint_c) for {groups}",
        "Standortprofil (heat_loop.supply_temp_setpoint_c) für {groups}"),
    "source.setpoint.air": _m(
        "not available: air-cooled racks ({groups}); the computer-room air set point is kept "
        "by the room's cooling units and is not in the site profile",
        "nicht verfügbar: luftgekühlte Racks ({groups}); der Sollwert der Raumluft wird von "
        "den Kühlgeräten des Raums gehalten und steht nicht im Standortprofil"),
    "source.setpoint.none": _m("not available: no rack groups in the site facts",
                               "nicht verfügbar: keine Rackgruppen in den Standortangaben"),
    "source.no_water_meter": _m("no water meter", "kein Wasserzähler"),
    "source.no_potable": _m("potable share not metered separately",
                            "Trinkwasseranteil nicht getrennt gemessen"),
    "source.renewable_estimate": _m("estimated: contracted renewable share x E_DC",
                                    "geschätzt: vertraglicher Anteil erneuerbarer Energie x E_DC"),
    "source.no_renewable": _m("no renewable meter or contract share",
                              "kein Zähler und kein vertraglicher Anteil erneuerbarer Energie"),
    "source.split": _m("split not recorded", "Aufteilung nicht erfasst"),
    "source.traffic": _m("not an energy meter quantity", "keine Größe eines Energiezählers"),
    "source.pue": _m("E_DC / E_IT (ISO/IEC 30134-2, category {category})",
                     "E_DC / E_IT (ISO/IEC 30134-2, Kategorie {category})"),
    "source.see_eres": _m("see E_RES-TOT", "siehe E_RES-TOT"),
    # -- charts --------------------------------------------------------------------------
    "chart.load.heading": _m("Load diagram", "Lastgang"),
    "chart.seasonal.heading": _m("Seasonal thermal profile", "Jahreszeitliches Wärmeprofil"),
    "chart.flows.heading": _m("Heat flows", "Wärmeflüsse"),
    "chart.trend.heading": _m("PUE and ERF trend", "Verlauf von PUE und ERF"),
    "chart.load.hourly": _m("Load diagram (hourly mean power, {tz})",
                            "Lastgang (stündliche mittlere Leistung, {tz})"),
    "chart.load.daily": _m("Load diagram (daily mean power, {tz})",
                           "Lastgang (tägliche mittlere Leistung, {tz})"),
    "chart.it_power": _m("IT electrical power", "Elektrische Leistung der IT"),
    "chart.reused": _m("Heat reused", "Wiederverwendete Wärme"),
    "chart.dumped": _m("Heat dumped", "Rückgekühlte Wärme"),
    "chart.gap": _m("data gap", "Datenlücke"),
    "chart.power_kw": _m("Power [kW]", "Leistung [kW]"),
    "chart.demand_reused": _m("Demand met by reused DC heat",
                              "Bedarf gedeckt durch wiederverwendete RZ-Wärme"),
    "chart.demand_backup": _m("Demand met by backup", "Bedarf gedeckt durch Ersatzheizung"),
    "chart.supply": _m("DC heat supply (reused + dumped)",
                       "Wärmeangebot des RZ (wiederverwendet + rückgekühlt)"),
    "chart.seasonal.title": _m("Seasonal thermal profile: heat demand vs supply",
                               "Jahreszeitliches Wärmeprofil: Wärmebedarf und -angebot"),
    "chart.heat_kwh_month": _m("Heat [kWh per month]", "Wärme [kWh pro Monat]"),
    "chart.flow.reused": _m("Reused", "Wiederverwendet"),
    "chart.flow.dumped": _m("Dumped (dry cooler)", "Rückgekühlt (Rückkühler)"),
    "chart.flow.lost": _m("Lost / not captured", "Verlust / nicht erfasst"),
    "chart.flow.share": _m("{label} ({share} of IT)", "{label} ({share} der IT)"),
    "chart.it_electricity": _m("IT electricity", "IT-Strom"),
    "chart.flows.title": _m("Heat flows: IT electricity to reused / dumped / lost heat",
                            "Wärmeflüsse: IT-Strom zu wiederverwendeter / rückgekühlter / "
                            "verlorener Wärme"),
    "chart.energy_kwh_month": _m("Energy [kWh per month]", "Energie [kWh pro Monat]"),
    "chart.trend.title": _m("PUE and ERF trend", "Verlauf von PUE und ERF"),
    "chart.target": _m("EnEfG {threshold} from {date}", "EnEfG {threshold} ab {date}"),
    # -- feasibility study (thermalctl assess) --------------------------------------------
    "assess.title": _m("Feasibility study (projection): {site}",
                       "Machbarkeitsstudie (Prognose): {site}"),
    "assess.heading": _m("Feasibility study: waste-heat reuse (projection)",
                         "Machbarkeitsstudie: Abwärmenutzung (Prognose)"),
    "assess.subtitle": _m(
        "Expected heat reuse, ERF, avoided fuel, cost and CO2 of the planned site, simulated "
        "before any hardware is bought",
        "Erwartete Abwärmenutzung, ERF, vermiedener Brennstoff, Kosten und CO2, simuliert vor "
        "dem Kauf der Anlagen"),
    "assess.footer": _m("thermalctl feasibility study · {id}",
                        "thermalctl Machbarkeitsstudie · {id}"),
    "assess.period": _m("{start} to {end} ({tz}), end exclusive; {days} days simulated",
                        "{start} bis {end} ({tz}), Ende ausschließlich; {days} Tage simuliert"),
    "assess.policy.thermostat": _m("Thermostat (today's practice)",
                                   "Thermostat (heutige Praxis)"),
    "assess.policy.rules": _m("Rules (commissioning engineer)", "Regeln (Inbetriebnahme)"),
    "assess.policy.mpc": _m("Planner (MPC)", "Planer (MPC)"),
    "assess.heading.assumptions": _m("What the projection rests on",
                                     "Grundlagen der Prognose"),
    "assess.heading.key": _m("Key figures for the projected period, by control policy",
                             "Kennzahlen für den prognostizierten Zeitraum nach Regelstrategie"),
    "assess.heading.comparison": _m("Heat reuse, avoided fuel, cost and CO2 by control policy",
                                    "Abwärme, Brennstoff, Kosten und CO2 je Regelstrategie"),
    "assess.heading.sinks": _m("Heat sinks under {policy}", "Wärmesenken mit {policy}"),
    "assess.heading.charts_load": _m("Load diagram and seasonal supply against demand: {policy}",
                                     "Lastgang und jahreszeitliches Angebot und Bedarf: {policy}"),
    "assess.heading.charts_duration": _m("Duration curves and reuse by policy",
                                         "Jahresdauerlinien und Nutzung nach Regelstrategie"),
    "assess.heading.monthly": _m("Monthly energy and KPI table: {policy}",
                                 "Monatliche Energie- und Kennzahlentabelle: {policy}"),
    "assess.heading.monthly_limits": _m("Monthly energy and KPI table ({policy}); limits",
                                        "Monatliche Energie- und Kennzahlentabelle ({policy}); "
                                        "Grenzen"),
    "assess.fact.period": _m("Simulated period", "Simulierter Zeitraum"),
    "assess.heading.outlook": _m("EnEfG / EED outlook", "Ausblick EnEfG / EED"),
    "assess.heading.enefg": _m(
        "EnEfG § 11 targets (commissioned {commissioned}), projected with {policy}",
        "EnEfG § 11: Anforderungen (Inbetriebnahme {commissioned}), Prognose mit {policy}"),
    "assess.heading.limits": _m("Limits of this study", "Grenzen dieser Studie"),
    "assess.assume.period": _m("Simulated period: {period}.", "Simulierter Zeitraum: {period}."),
    "assess.assume.weather": _m("Weather: {weather}.", "Wetter: {weather}."),
    "assess.assume.policies": _m(
        "Control policies simulated: {policies}; the charts and the monthly table show "
        "{expected}. Every policy runs through thermalctl's one control core on the simulated "
        "plant of the site profile (5-minute decisions, 15-minute plans).",
        "Simulierte Regelstrategien: {policies}; Diagramme und Monatstabelle zeigen "
        "{expected}. Jede Strategie läuft durch den einen Regelkern von thermalctl auf der "
        "simulierten Anlage des Standortprofils (Entscheidung alle 5 Minuten, Planung alle "
        "15 Minuten)."),
    "assess.assume.reference": _m(
        "Reference for what is avoided: the site's backup heaters supply all the heat the "
        "sinks take (per sink its own heater, efficiency or COP, fuel price and emission "
        "factor from the site profile).",
        "Vergleichsfall für das Vermiedene: die Ersatzheizungen des Standorts liefern die "
        "gesamte Wärme der Senken (je Senke ihr eigener Wärmeerzeuger, Wirkungsgrad oder "
        "COP, Brennstoffpreis und Emissionsfaktor aus dem Standortprofil)."),
    "assess.assume.not_annual": _m(
        "The period is not a whole number of years: the figures are for the simulated period "
        "only, not annual values, and the EnEfG statuses are indicative.",
        "Der Zeitraum umfasst keine ganzen Jahre: die Werte gelten nur für den simulierten "
        "Zeitraum, sie sind keine Jahreswerte, und die Einstufung nach EnEfG ist nur ein "
        "Hinweis."),
    "assess.assume.epw_offset": _m(
        "EPW rows read at UTC{offset} h ({why})",
        "EPW-Zeilen gelesen mit UTC{offset} h ({why})"),
    "assess.assume.epw_header": _m("the file's LOCATION time zone, as the format defines",
                                   "Zeitzone der LOCATION-Zeile, wie das Format es vorsieht"),
    "assess.assume.epw_given": _m("given with --epw-utc-offset", "mit --epw-utc-offset angegeben"),
    "assess.assume.synthetic": _m(
        "synthetic from the site profile: mean {mean} °C, annual amplitude {annual} K, "
        "daily {daily} K",
        "synthetisch aus dem Standortprofil: Mittel {mean} °C, Jahresamplitude {annual} K, "
        "Tagesamplitude {daily} K"),
    "assess.assume.workload": _m(
        "IT load: the rack groups of the site profile (installed IT power {power} kW; mean "
        "utilisation and deferrable share per group as profiled).",
        "IT-Last: die Rackgruppen des Standortprofils (installierte IT-Leistung {power} kW; "
        "mittlere Auslastung und verschiebbarer Anteil je Gruppe laut Profil)."),
    "assess.note.reference": _m(
        "Avoided = reference (the backup heaters supply all the heat) less what the backup "
        "heaters still burn; the avoided cost and CO2 are net of the electricity a heat pump on "
        "the loop uses to lift the heat. Reused heat counts only heat inside the sinks' comfort "
        "band (heat above it is overheating, not reuse).",
        "Vermieden = Vergleichsfall (Ersatzheizungen liefern die gesamte Wärme) abzüglich "
        "dessen, was die Ersatzheizungen noch verbrauchen; vermiedene Kosten und CO2 sind um "
        "den Strom einer Wärmepumpe am Kreislauf vermindert, die die Wärme anhebt. Als "
        "wiederverwendet zählt nur Wärme innerhalb des Komfortbands der Senken (darüber ist "
        "sie Überhitzung, keine Nutzung)."),
    "assess.note.total_cost": _m(
        "Total energy cost: electricity (facility and heat pumps, at the time-of-use price) "
        "plus the backup fuel still burnt, plus the electricity that deferred work still "
        "queued at the end will take.",
        "Gesamte Energiekosten: Strom (Rechenzentrum und Wärmepumpen, zum zeitabhängigen "
        "Preis) zuzüglich des noch verbrauchten Brennstoffs der Ersatzheizung und des Stroms "
        "für am Ende noch wartende verschiebbare Arbeit."),
    "assess.note.outlook": _m(
        "Outlook: the projected totals are checked against every EnEfG target; 'not yet "
        "applicable' with '(would be met)' says how the site would stand once the target "
        "applies.",
        "Ausblick: die prognostizierten Summen werden mit jeder Anforderung des EnEfG "
        "verglichen; 'noch nicht anzuwenden' mit '(wäre erfüllt)' zeigt, wie der Standort "
        "dastünde, sobald die Anforderung gilt."),
    "assess.limit.model": _m(
        "The plant is thermalctl's model of the site profile (pool, tank and building physics, "
        "exchangers by effectiveness-NTU, dry cooler); its parameters are design values until "
        "'thermalctl calibrate' fits them to logged data.",
        "Die Anlage ist das Modell von thermalctl aus dem Standortprofil (Becken-, Speicher- und "
        "Gebäudephysik, Wärmeübertrager nach Effektivität-NTU, Rückkühler); seine Parameter "
        "sind Auslegungswerte, bis 'thermalctl calibrate' sie an Messdaten anpasst."),
    "assess.limit.workload": _m(
        "The IT load is the profile's synthetic workload; real utilisation changes the heat "
        "on offer in proportion.",
        "Die IT-Last ist die synthetische Last des Profils; die tatsächliche Auslastung "
        "verändert das Wärmeangebot im selben Verhältnis."),
    "assess.limit.prices": _m(
        "Prices and emission factors are the profile's, constant over the period (time of "
        "use for electricity).",
        "Preise und Emissionsfaktoren sind die des Profils, konstant über den Zeitraum (Strom "
        "zeitabhängig)."),
    "assess.limit.meters": _m(
        "A projection is no measurement: once the site runs, the energy report from its "
        "calibrated meters ('thermalctl report') is what an authority takes.",
        "Eine Prognose ist keine Messung: im Betrieb ist der Energiebericht aus den "
        "geeichten Zählern des Standorts ('thermalctl report') das, was eine Behörde "
        "entgegennimmt."),
    "assess.row.demand": _m("Heat demand of the sinks (reused + backup)",
                            "Wärmebedarf der Senken (wiederverwendet + Ersatzheizung)"),
    "assess.row.reused": _m("Reused DC heat E_REUSE", "Wiederverwendete RZ-Wärme E_REUSE"),
    "assess.row.coverage": _m("Share of the demand covered by DC heat",
                              "Anteil des Bedarfs aus RZ-Wärme"),
    "assess.row.backup": _m("Heat still from the backup heaters",
                            "Wärme weiterhin aus den Ersatzheizungen"),
    "assess.row.dumped": _m("Heat dumped (dry cooler)", "Rückgekühlte Wärme (Rückkühler)"),
    "assess.row.overheating": _m("Heat above the comfort band (not reuse)",
                                 "Wärme über dem Komfortband (keine Nutzung)"),
    "assess.row.it": _m("IT energy E_IT", "Energieverbrauch der IT E_IT"),
    "assess.row.facility": _m("Total facility energy E_DC", "Gesamtenergieverbrauch E_DC"),
    "assess.row.pue": _m("PUE (ISO/IEC 30134-2)", "PUE (ISO/IEC 30134-2)"),
    "assess.row.erf": _m("ERF = E_REUSE / E_DC (ISO/IEC 30134-6)",
                         "ERF = E_REUSE / E_DC (ISO/IEC 30134-6)"),
    "assess.row.reference_fuel": _m("Reference: backup fuel for all the heat",
                                    "Vergleichsfall: Brennstoff für die gesamte Wärme"),
    "assess.row.reference_eur": _m("Reference: cost of that fuel",
                                   "Vergleichsfall: Kosten dieses Brennstoffs"),
    "assess.row.reference_co2": _m("Reference: CO2 of that fuel",
                                   "Vergleichsfall: CO2 dieses Brennstoffs"),
    "assess.row.avoided_fuel": _m("Backup fuel avoided", "Vermiedener Brennstoff"),
    "assess.row.heat_pump": _m("Heat-pump electricity to lift the heat",
                               "Strom der Wärmepumpen zur Anhebung der Wärme"),
    "assess.row.avoided_cost": _m("Heat cost avoided (net of heat-pump electricity)",
                                  "Vermiedene Wärmekosten (abzüglich Wärmepumpenstrom)"),
    "assess.row.avoided_co2": _m("CO2 avoided (net of heat-pump electricity)",
                                 "Vermiedenes CO2 (abzüglich Wärmepumpenstrom)"),
    "assess.row.electricity_cost": _m("Electricity cost (facility and heat pumps)",
                                      "Stromkosten (Rechenzentrum und Wärmepumpen)"),
    "assess.row.fuel_cost": _m("Backup fuel cost still paid",
                               "Weiterhin gezahlte Brennstoffkosten"),
    "assess.row.total_cost": _m("Total energy cost", "Gesamte Energiekosten"),
    "assess.row.co2": _m("CO2 of electricity and fuel", "CO2 aus Strom und Brennstoff"),
    "assess.row.comfort": _m("Time outside the comfort bands", "Zeit außerhalb der Komfortbänder"),
    "assess.row.late": _m("Deferred work done late", "Verspätet erledigte verschiebbare Arbeit"),
    "assess.col.sink": _m("Sink", "Senke"),
    "assess.col.demand": _m("Demand [kWh]", "Bedarf [kWh]"),
    "assess.col.reused": _m("Reused [kWh]", "Genutzt [kWh]"),
    "assess.col.coverage": _m("Covered [%]", "Gedeckt [%]"),
    "assess.col.backup": _m("Backup [kWh]", "Ersatz [kWh]"),
    "assess.col.overheating": _m("Overheating [kWh]", "Überhitzung [kWh]"),
    "assess.col.avoided_fuel": _m("Fuel avoided [kWh]", "Verm. Brennstoff [kWh]"),
    "assess.col.avoided_eur": _m("Fuel cost avoided [EUR]", "Verm. Kosten [EUR]"),
    "assess.col.avoided_co2": _m("CO2 avoided [kg]", "Verm. CO2 [kg]"),
    "assess.chart.demand": _m("Heat demand of the sinks", "Wärmebedarf der Senken"),
    "assess.chart.supply": _m("DC heat on offer (reused + dumped)",
                              "Wärmeangebot des RZ (genutzt + rückgekühlt)"),
    "assess.chart.reused": _m("Reused DC heat", "Genutzte RZ-Wärme"),
    "assess.chart.hours": _m("Hours of the period, sorted by power",
                             "Stunden des Zeitraums, nach Leistung sortiert"),
    "assess.chart.duration.title": _m("Duration curves: heat demand and DC heat on offer",
                                      "Jahresdauerlinien: Wärmebedarf und Wärmeangebot des RZ"),
    "assess.chart.policies.title": _m("Reused heat per month by control policy",
                                      "Genutzte Wärme pro Monat nach Regelstrategie"),
}
