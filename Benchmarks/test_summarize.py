"""Checks of the suite's bookkeeping (no benchmark runs): the medians, ratios and verdicts of
`summarize.py` on made-up records, and the commands `driver.py` builds.

Usage: python3 -m unittest test_summarize   (from Benchmarks/)
"""
import os
import unittest

import driver
import summarize


def record(round_index, workload, side, variant, output, wall=1.0, rss=100.0):
    return {"round": round_index, "workload": workload, "side": side, "variant": variant, "command": [],
            "wall_s": wall, "peak_rss_mib": rss, "output": output}


class SummarizeTests(unittest.TestCase):
    def rows(self, records):
        return {(r["workload"], r["measure"]): r for r in summarize.build_rows(records)}

    def test_speed_ratio_is_the_median_over_rounds_and_judged_against_the_target(self):
        records = []
        for i, (g, t) in enumerate([(5.0, 9.0), (6.0, 6.0), (4.0, 12.0)], start=1):
            records.append(record(i, "mnist-mlp", "gradlab", "step", {"results": [{"median_ms": g, "steps_per_s": 1e3 / g}]}, rss=50))
            records.append(record(i, "mnist-mlp", "torch", "step", {"results": [{"median_ms": t, "steps_per_s": 1e3 / t}]}, rss=800))
        rows = self.rows(records)
        step = rows[("mnist-mlp", "ms per step (median)")]
        self.assertEqual(step["gradlab"], 5.0)
        self.assertEqual(step["torch"], 9.0)
        self.assertAlmostEqual(step["ratio"], 1.8)
        self.assertTrue(step["met"])
        self.assertEqual(step["gradlab_rounds"], [5.0, 6.0, 4.0])
        memory = rows[("mnist-mlp", "peak RSS")]
        self.assertTrue(memory["met"])
        self.assertAlmostEqual(memory["ratio"], 16.0)

    def test_missed_targets_are_marked_and_listed(self):
        records = [record(1, "bn-mlp", "gradlab", "step", {"results": [{"median_ms": 10.0}]}),
                   record(1, "bn-mlp", "torch", "step", {"results": [{"median_ms": 15.0}]})]
        row = self.rows(records)[("bn-mlp", "ms per step (median)")]
        self.assertFalse(row["met"])  # 1.5× against a target of 2×
        machine = {"cpu": "test", "cores": 2, "started": "a", "finished": "b",
                   "load_average_start": [0.5, 0.5, 0.5], "load_average_end": [0.5, 0.5, 0.5]}
        page = summarize.markdown(machine, {"rounds": 1, "quick": False, "workloads": ["bn-mlp"]},
                                  summarize.build_rows(records), [])
        self.assertIn("Targets met: 0 of 1.", page)
        self.assertIn("1.50× (GradLab 10.0 ms), target ≥ 2× PyTorch", page)

    def test_sweep_jobs_speedup_and_doctor_overhead(self):
        records = [record(1, "sweep", "gradlab", "jobs1", {"train_seconds": 1.0}, wall=4.0),
                   record(1, "sweep", "gradlab", "jobs2", {"train_seconds": 1.0}, wall=2.0),
                   record(1, "sweep", "torch", "jobs1", {"train_seconds": 40.0}, wall=50.0),
                   record(1, "doctor-overhead", "gradlab", "variants", {"results": [
                       {"variant": "plain", "median_ms": 10.0, "overhead_percent": 0.0},
                       {"variant": "statistics", "median_ms": 10.6, "overhead_percent": 6.0},
                       {"variant": "statistics+histograms", "median_ms": 10.7, "overhead_percent": 7.0},
                       {"variant": "statistics+histograms+guard", "median_ms": 10.8, "overhead_percent": 8.0}]})]
        rows = self.rows(records)
        speedup = rows[("sweep", "`--jobs 2` speed-up over `--jobs 1` (whole process)")]
        self.assertAlmostEqual(speedup["ratio"], 2.0)
        self.assertTrue(speedup["met"])
        loops = rows[("sweep", "training loops, `--jobs 1` (`train_seconds`, sum over runs)")]
        self.assertAlmostEqual(loops["ratio"], 40.0)
        self.assertTrue(loops["met"])
        self.assertFalse(rows[("doctor-overhead", "monitor: statistics every step")]["met"])
        self.assertTrue(rows[("doctor-overhead", "+ non-finite guard (all of it)")]["met"])

    def test_matmul_rows_compare_with_sgemm_called_directly(self):
        results = [{"size": 512, "threads": 1, "backend": b, "gflops": g}
                   for b, g in (("blas_direct", 40.0), ("gradlab_blas", 36.0), ("gradlab_swift", 12.0))]
        records = [record(1, "matmul", "gradlab", "gemm", {"results": results}),
                   record(1, "matmul", "torch", "gemm", {"results": [{"size": 512, "threads": 1, "backend": "torch", "gflops": 41.0}]})]
        rows = [r for r in summarize.build_rows(records) if r["workload"] == "matmul"]
        self.assertEqual([r["ratio"] for r in rows], [90.0, 30.0])
        self.assertEqual([r["met"] for r in rows], [True, False])
        self.assertEqual(rows[0]["torch"], 41.0)


class DriverTests(unittest.TestCase):
    def test_commands_cover_both_sides_and_quick_mode_shrinks_them(self):
        settings = {"quick": True, "bench": "/bin/true", "cli": "/bin/true", "python": "python3"}
        sweep = driver.commands("sweep", settings, "/tmp/x")
        self.assertEqual([(side, variant) for side, variant, _ in sweep],
                         [("gradlab", "jobs1"), ("gradlab", "jobs2"), ("torch", "jobs1")])
        self.assertIn("depth=2,5 activation=sigmoid,tanh,relu epochs=20", sweep[0][2])
        self.assertTrue(os.path.exists(driver.SWEEP_SPEC), driver.SWEEP_SPEC)
        full = driver.commands("mnist-mlp", dict(settings, quick=False), "/tmp/x")
        self.assertEqual(full[0][2][full[0][2].index("--steps") + 1], "100")
        self.assertEqual(full[1][2][full[1][2].index("--threads") + 1], "2")
        for workload in driver.WORKLOADS + driver.EXTRA_WORKLOADS:
            sides = {side for side, _, _ in driver.commands(workload, settings, "/tmp/x")}
            self.assertIn("gradlab", sides, workload)


if __name__ == "__main__":
    unittest.main()
