"""Pipeline: when and where briefs are built — plan and stamps, the no-op fast path, the time limit,
executors (local process pool, Dask) and shards, atomic output and locks, the edition store, `build`,
`check`'s template pass, `watch` and `schedule`.

Owns: `plan` (targets, content stamps, why a target is stale), `fastpath` (a no-op build importing only
the standard library), `limits` (the per-brief time limit), `task` (one brief as an executor's task),
`executors`, `shard`, `output` (atomic writes, locks), `editions` (the edition store on disk),
`build` (one build, top to bottom), `check` (render every template without a layout), `watch`
(rebuild on change, on a timetable).

May import: `briefs.errors`, `briefs.data`, `briefs.formats`, `briefs.compose`. Never `briefs.deliver`,
`briefs.preview` or the command line.
"""
