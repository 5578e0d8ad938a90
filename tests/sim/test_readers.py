"""Readers on tiny files written here, and on ../shared/data when it is present.

Time bases: EPW rows are local standard time at the LOCATION line's offset, hour h the
hour ending at h:00 (EPW data dictionary, EnergyPlus Auxiliary Programs); DHWcalc lines
are minutes of local standard time of the tz given.
"""

from __future__ import annotations

import datetime as dt
import io
import tarfile
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import HOTEL_SITE, POOL_SITE
from thermalctl.config.loader import load_site
from thermalctl.sim.readers import (
    ReaderError,
    gpus_allocated,
    read_alibaba_duty_cycle,
    read_alibaba_pod_list,
    read_dhw_profile,
    read_epw,
    read_workload_csv,
)

GROUP = load_site(POOL_SITE).profile.rack_groups[0]  # idle 4 kW, max 40 kW, must-run 0.3
JAN1_2026 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp()
JUL1_2026 = dt.datetime(2026, 7, 1, tzinfo=dt.UTC).timestamp()
HOUR = 3600.0


def _epw(tmp_path: Path, hours: int = 48, tz: str = "0", k_per_row: float = 1.0) -> Path:
    """An EPW file whose dry bulb is ``k_per_row`` times the 0-based row number [degC]
    (hour h of day d: row 24 (d - 1) + h - 1), ``tz`` in the LOCATION time-zone field."""
    lines = [f"LOCATION,Tiny,-,XX,test,000000,50.0,10.0,{tz},100",
             *(f"HEADER{i}" for i in range(1, 8))]  # fmt: skip
    for h in range(hours):
        # year, month, day, hour(1-24), minute, flags, dry bulb, dew, RH, ... wind at 21
        fields = ["2020", "1", str(1 + h // 24), str(h % 24 + 1), "0", "?", f"{h * k_per_row:.4f}",
                  "0", "50"] + ["0"] * 12 + ["4.0"] + ["0"] * 10
        lines.append(",".join(fields))
    path = tmp_path / "tiny.epw"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_epw_values_at_mid_hour_and_interpolated(tmp_path: Path) -> None:
    weather = read_epw(_epw(tmp_path))
    # Hour 1 (ending 01:00, value 0.0) stands for 00:30; hour 2 (value 1.0) for 01:30.
    assert weather(JAN1_2026 + 1800.0).temp_c == pytest.approx(0.0)
    assert weather(JAN1_2026 + 3600.0).temp_c == pytest.approx(0.5)
    assert weather(JAN1_2026 + 5400.0).relative_humidity == pytest.approx(0.5)
    assert weather(JAN1_2026 + 5400.0).wind_m_per_s == pytest.approx(4.0)


def test_epw_rows_are_local_standard_time_of_the_header(tmp_path: Path) -> None:
    weather = read_epw(_epw(tmp_path, tz="1"))  # CET: rows are UTC+1
    assert weather.utc_offset_h == 1.0
    # Hour 1 (value 0.0) is 00:00-01:00 CET, standing for 00:30 CET = 23:30 UTC the day before.
    assert weather(JAN1_2026 - 1800.0).temp_c == pytest.approx(0.0)
    assert weather(JAN1_2026 + 1800.0).temp_c == pytest.approx(1.0)  # 01:30 CET: hour 2
    # The override reads the same rows as UTC (e.g. PVGIS files), one hour later.
    as_utc = read_epw(_epw(tmp_path, tz="1"), utc_offset_h=0.0)
    assert as_utc.utc_offset_h == 0.0
    assert as_utc(JAN1_2026 + 1800.0).temp_c == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("tz", "utc_of_hour_1_mid_h"),
    [("0", 0.5), ("1", -0.5), ("-5", 5.5), ("5.5", -5.0), ("+9", -8.5)],
)
def test_epw_offsets_west_east_and_fractional(
    tmp_path: Path, tz: str, utc_of_hour_1_mid_h: float
) -> None:
    weather = read_epw(_epw(tmp_path, tz=tz))
    assert weather(JAN1_2026 + utc_of_hour_1_mid_h * HOUR).temp_c == pytest.approx(0.0)
    assert weather(JAN1_2026 + (utc_of_hour_1_mid_h + 5) * HOUR).temp_c == pytest.approx(5.0)


def test_epw_year_wraps_on_the_file_clock(tmp_path: Path) -> None:
    k = 1.0 / 200.0  # [K per row], to stay inside the reader's plausible range
    weather = read_epw(_epw(tmp_path, hours=8760, tz="-5", k_per_row=k))  # EST, a full year
    # 2026-01-01 00:00 UTC is 31 December 19:00 EST: between the rows standing for
    # 18:30 (row 8754) and 19:30 (row 8755), not the first hours of January.
    assert weather(JAN1_2026).temp_c == pytest.approx(8754.5 * k)
    # 05:30 UTC is 00:30 EST on 1 January: the first row.
    assert weather(JAN1_2026 + 5.5 * HOUR).temp_c == pytest.approx(0.0)
    # 31 December 23:30 EST (04:30 UTC on 1 January) is the last row, in every year.
    assert weather(JAN1_2026 + 4.5 * HOUR).temp_c == pytest.approx(8759.0 * k)
    assert weather(JAN1_2026 + 4.5 * HOUR - 365 * 86400.0).temp_c == pytest.approx(8759.0 * k)


def test_epw_garbage_is_a_reader_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.epw"
    path.write_text("not,an\nepw\n")
    with pytest.raises(ReaderError):
        read_epw(path)


@pytest.mark.parametrize(("tz", "match"), [("abc", "not a number"), ("15", "outside")])
def test_epw_bad_time_zone_is_a_reader_error(tmp_path: Path, tz: str, match: str) -> None:
    with pytest.raises(ReaderError, match=match):
        read_epw(_epw(tmp_path, tz=tz))


def test_workload_csv_utilisation_percent_to_power(tmp_path: Path) -> None:
    path = tmp_path / "util.csv"
    # 50 % for the first slot, 100 % for the second (two samples each).
    path.write_text("time_s,utilisation\n0,50\n450,50\n900,100\n1350,100\n")
    wl = read_workload_csv(path, GROUP, rescale=False)
    dynamic_first = 0.5 * (40e3 - 4e3)
    assert wl.must_run_w(0.0) == pytest.approx(0.3 * dynamic_first)
    assert wl.arrival_rate_w(0.0) == pytest.approx(0.7 * dynamic_first)
    assert wl.arrival_rate_w(900.0) == pytest.approx(0.7 * 36e3)
    assert wl.arrivals_kwh(0.0, 900.0) == pytest.approx(0.7 * dynamic_first * 0.25 / 1e3)


def test_workload_csv_power_and_rescale(tmp_path: Path) -> None:
    path = tmp_path / "power.csv"
    path.write_text("time,power_w\n2026-01-01T00:00Z,13000\n2026-01-01T00:15Z,31000\n")
    wl = read_workload_csv(path, GROUP)  # utilisation 0.25, 0.75 -> mean 0.5 -> x1.2
    assert (wl.must_run_w(0.0) + wl.arrival_rate_w(0.0)) == pytest.approx(0.3 * 36e3)
    with pytest.raises(ReaderError, match="power_w or utilisation"):
        bad = tmp_path / "bad.csv"
        bad.write_text("time_s,foo\n0,1\n")
        read_workload_csv(bad, GROUP)


def _duty_csv() -> str:
    rows = ["value,timestamp_anon,container_ip"]
    for t in range(0, 1800, 57):
        rows += [f"10,{1000 + t},a", f"30,{1000 + t},b"]
    return "\n".join(rows) + "\n"


def test_duty_cycle_is_averaged_across_containers(tmp_path: Path) -> None:
    csv = tmp_path / "pod_gpu_duty_cycle_anon.csv"
    csv.write_text(_duty_csv())
    wl = read_alibaba_duty_cycle(csv, GROUP, rescale=False)
    assert wl.must_run_w(0.0) == pytest.approx(0.3 * 0.2 * 36e3)  # mean of 10 % and 30 %
    tgz = tmp_path / "duty_cycle.tar.gz"
    with tarfile.open(tgz, "w:gz") as tar:
        data = _duty_csv().encode()
        info = tarfile.TarInfo("pod_gpu_duty_cycle_anon.csv")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    assert read_alibaba_duty_cycle(tgz, GROUP, rescale=False).must_run_w(0.0) == \
        pytest.approx(wl.must_run_w(0.0))


def test_pod_list_gpus_allocated_by_hand(tmp_path: Path) -> None:
    path = tmp_path / "pods.csv"
    path.write_text(
        "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,"
        "creation_time,deletion_time,scheduled_time\n"
        "a,1,1,2,1000,,LS,Running,0,1800,0\n"        # 2 GPUs for slots 0-1
        "b,1,1,1,500,,BE,Running,900,2700,900\n"      # half a GPU for slots 1-2
        "c,1,1,8,1000,,BE,Pending,0,2700,\n"          # never scheduled: ignored
    )
    starts, alloc = gpus_allocated(path)
    assert list(starts[:3]) == [0.0, 900.0, 1800.0]
    assert list(alloc[:3]) == pytest.approx([2.0, 2.5, 0.5])
    wl = read_alibaba_pod_list(path, GROUP, rescale=False)
    assert wl.must_run_w(900.0) == pytest.approx(0.3 * 36e3)  # peak slot = full load


def test_dhw_one_value_per_minute_and_csv(tmp_path: Path) -> None:
    flow = np.zeros(2 * 1440)
    flow[420:430] = 600.0  # 10 min at 600 L/h each day -> 100 L/day
    flow[1440 + 420:1440 + 430] = 600.0
    path = tmp_path / "draws.txt"
    path.write_text("\n".join(f"{v:g}" for v in flow) + "\n")
    shape = read_dhw_profile(path)
    assert shape.daily_volume_l == pytest.approx(100.0)
    # During a draw: 600 L/h out of 100 L/day -> 6 /h -> 6/3600 per second.
    assert shape(JAN1_2026 + 425 * 60.0) == pytest.approx(6.0 / 3600.0)
    assert shape(JAN1_2026 + 600 * 60.0) == 0.0
    csv = tmp_path / "draws.csv"
    csv.write_text("flow_l_per_h\n" + "\n".join(f"{v:g}" for v in flow) + "\n")
    assert read_dhw_profile(csv).daily_volume_l == pytest.approx(100.0)


def test_dhw_profile_clock_is_local_standard_time(tmp_path: Path) -> None:
    flow = np.zeros(2 * 1440)
    flow[420:430] = flow[1440 + 420:1440 + 430] = 600.0  # 07:00-07:10 on the profile clock
    path = tmp_path / "draws.txt"
    path.write_text("\n".join(f"{v:g}" for v in flow) + "\n")
    berlin = read_dhw_profile(path, tz="Europe/Berlin")
    during = 6.0 / 3600.0
    assert berlin(JAN1_2026 + 6 * HOUR + 300.0) == pytest.approx(during)  # 07:05 CET
    assert berlin(JAN1_2026 + 7 * HOUR + 300.0) == 0.0  # 08:05 CET
    # Standard time all year: in July the draw is still at 06:05 UTC (08:05 CEST).
    assert berlin(JUL1_2026 + 6 * HOUR + 300.0) == pytest.approx(during)
    assert berlin(JUL1_2026 + 5 * HOUR + 300.0) == 0.0
    with pytest.raises(ReaderError, match="Mars"):
        read_dhw_profile(path, tz="Mars/Olympus")


def test_dhw_empty_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("0\n0\n")
    with pytest.raises(ReaderError):
        read_dhw_profile(path)


# -- the real public files (../shared/data), skipped when absent ------------------------
PVGIS_EPW = "pvgis_tmy_45.000_8.000_2005_2023.epw"


def test_real_epw(shared_data: Path) -> None:
    weather = read_epw(shared_data / PVGIS_EPW)
    temps = weather.temp.values
    assert temps.size == 8760
    # SOURCES.md: dry bulb -2.34 to 34.33 degC, mean 13.6 degC.
    assert temps.min() == pytest.approx(-2.34, abs=0.01)
    assert temps.max() == pytest.approx(34.33, abs=0.01)
    assert temps.mean() == pytest.approx(13.6, abs=0.05)
    # SOURCES.md: LOCATION time-zone field 1; the override moves everything by one hour.
    assert weather.utc_offset_h == 1.0
    as_utc = read_epw(shared_data / PVGIS_EPW, utc_offset_h=0.0)
    for t in (JAN1_2026 + 5 * HOUR, JUL1_2026 + 13.25 * HOUR):
        assert weather(t).temp_c == pytest.approx(as_utc(t + HOUR).temp_c)


def test_real_pvgis_epw_rows_are_utc(shared_data: Path) -> None:
    """Why read_epw has an override: this PVGIS file's rows are UTC, not its header's CET.

    Its COMMENTS 2 gives the irradiance time offset as -0.8239 h: row h's irradiance is
    for h - 0.8239 on the rows' clock. The irradiance-weighted mean of that time must be
    solar noon: 12 - 8/15 = 11.47 h UTC at 8 deg E (the equation of time, weighted by
    irradiance over the year, moves it by minutes). On CET rows it would be near 10.5 UTC.
    """
    rows = np.loadtxt(shared_data / PVGIS_EPW, delimiter=",", skiprows=8, usecols=(3, 13))
    hour, ghi_wh_per_m2 = rows[:, 0], rows[:, 1]
    centre_h = float(np.sum(ghi_wh_per_m2 * (hour - 0.8239)) / np.sum(ghi_wh_per_m2))
    assert centre_h == pytest.approx(12.0 - 8.0 / 15.0, abs=0.15)  # if the rows are UTC


def test_real_duty_cycle(shared_data: Path) -> None:
    wl = read_alibaba_duty_cycle(shared_data / "alibaba_GenTD26_pod_gpu_duty_cycle_anon.tar.gz",
                                 GROUP)
    # 1,441 timestamps 57 s apart = 22.8 h -> 92 slots of 15 min.
    assert wl.must_run.size == 92
    # Rescaled to the group's mean utilisation (0.6 of the 36 kW dynamic range).
    total = wl.must_run + wl.arrival_rate
    assert total.mean() == pytest.approx(0.6 * 36e3, rel=1e-9)


def test_real_pod_list(shared_data: Path) -> None:
    starts, alloc = gpus_allocated(shared_data / "alibaba_gpu-v2023_openb_pod_list_default.csv")
    assert starts[-1] / 86400.0 == pytest.approx(149.3, abs=0.2)
    assert alloc.min() >= -1e-9
    assert alloc.max() > 10.0  # tens of GPUs allocated at once in this sample


def test_real_dhwcalc(shared_data: Path) -> None:
    shape = read_dhw_profile(shared_data / "DHWcalc_200L_1min_4cat_sf_nods_max1200.txt")
    # SOURCES.md: sum / 60 / 365 = 199.9995 L/day.
    assert shape.daily_volume_l == pytest.approx(200.0, rel=1e-4)


def test_real_dhwcalc_morning_peak_in_local_time(shared_data: Path) -> None:
    """The log: weekdays draw 50 % of their volume 06:30-07:30, weekends 47.5 % 07:00-09:00.

    So 06:30-09:00 on the profile clock holds most of the volume; read in Berlin, that is
    05:30-08:00 UTC in January.
    """
    path = shared_data / "DHWcalc_200L_1min_4cat_sf_nods_max1200.txt"
    berlin, utc = read_dhw_profile(path, tz="Europe/Berlin"), read_dhw_profile(path)
    minutes = np.arange(28 * 1440) * 60.0 + JAN1_2026  # four weeks of January
    hour_utc = (minutes % 86400.0) / HOUR
    share_b = np.array([berlin(t) for t in minutes]) * 60.0
    share_u = np.array([utc(t) for t in minutes]) * 60.0
    window = (hour_utc >= 5.5) & (hour_utc < 8.0)
    assert share_b[window].sum() / share_b.sum() > 0.4
    late = (hour_utc >= 6.5) & (hour_utc < 9.0)  # the same window on a UTC clock
    assert share_u[late].sum() / share_u.sum() == pytest.approx(
        share_b[window].sum() / share_b.sum(), rel=1e-9
    )


@pytest.mark.slow
def test_real_inputs_drive_the_hotel(shared_data: Path) -> None:
    from thermalctl.sim.offline import simulate

    profile = load_site(HOTEL_SITE).profile
    group_inputs = {
        g.id: read_alibaba_duty_cycle(
            shared_data / "alibaba_GenTD26_pod_gpu_duty_cycle_anon.tar.gz", g
        )
        for g in profile.rack_groups
    }
    metrics = simulate(
        profile, "mpc", 1.0, start_s=JAN1_2026,
        weather=read_epw(shared_data / "pvgis_tmy_45.000_8.000_2005_2023.epw"),
        workloads=group_inputs,
        draw_shape=read_dhw_profile(shared_data / "DHWcalc_200L_1min_4cat_sf_nods_max1200.txt"),
    ).metrics
    assert abs(metrics["energy_balance_residual_kwh"]) <= 0.005 * metrics["it_energy_kwh"]
    assert metrics["plan_failures"] == 0
