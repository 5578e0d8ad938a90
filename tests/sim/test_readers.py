"""Readers on tiny files written here, and on ../shared/data when it is present."""

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


def _epw(tmp_path: Path, hours: int = 48) -> Path:
    lines = [f"HEADER{i}" for i in range(8)]
    for h in range(hours):
        # year, month, day, hour(1-24), minute, flags, dry bulb, dew, RH, ... wind at 21
        fields = ["2020", "1", str(1 + h // 24), str(h % 24 + 1), "0", "?", f"{h:.1f}",
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


def test_epw_garbage_is_a_reader_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.epw"
    path.write_text("not,an\nepw\n")
    with pytest.raises(ReaderError):
        read_epw(path)


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


def test_dhw_empty_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("0\n0\n")
    with pytest.raises(ReaderError):
        read_dhw_profile(path)


# -- the real public files (../shared/data), skipped when absent ------------------------
def test_real_epw(shared_data: Path) -> None:
    weather = read_epw(shared_data / "pvgis_tmy_45.000_8.000_2005_2023.epw")
    temps = weather.temp.values
    assert temps.size == 8760
    # SOURCES.md: dry bulb -2.34 to 34.33 degC, mean 13.6 degC.
    assert temps.min() == pytest.approx(-2.34, abs=0.01)
    assert temps.max() == pytest.approx(34.33, abs=0.01)
    assert temps.mean() == pytest.approx(13.6, abs=0.05)


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
