/**
 * CPU profiles of one measured window (`BENCH_CPU_PROF=<dir> npm run bench ...`): the bench process (sandbox
 * + demo ERP), the Node-RED child and the raw client child each write `<dir>/<label>-<process>.cpuprofile`
 * (open in Chrome DevTools, or sum self time per function with a small script).
 *
 * Node refuses `--cpu-prof` in NODE_OPTIONS and the launcher spawns Node-RED with fixed arguments, so the
 * child gets this file as `--require` instead: it profiles through the inspector between the two IPC
 * messages the bench sends around the measured run (Node-RED's start-up stays out of the profile). Not a
 * signal: Node-RED stops on SIGUSR2 (nodemon's restart signal).
 */
import fs from 'fs';
import inspector from 'inspector';
import path from 'path';

/** Where profiles go when asked for (undefined: profiling off). */
export function profileDir(): string | undefined {
  return process.env.BENCH_CPU_PROF || undefined;
}

export class CpuProfiler {
  private session: inspector.Session | undefined;

  start(): void {
    if (this.session) return;
    const session = new inspector.Session();
    session.connect();
    // The in-process session answers synchronously: profiling has started when start() returns.
    session.post('Profiler.enable');
    session.post('Profiler.setSamplingInterval', { interval: 500 });
    session.post('Profiler.start');
    // BENCH_HEAP_PROF=1: where the garbage comes from too (sampled allocations, written beside the profile).
    if (process.env.BENCH_HEAP_PROF) session.post('HeapProfiler.startSampling', { samplingInterval: 32768, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as inspector.HeapProfiler.StartSamplingParameterType);
    this.session = session;
  }

  /** Stops and writes the profile to `file`; a no-op when not started. */
  stop(file: string): void {
    const session = this.session;
    if (!session) return;
    this.session = undefined;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (process.env.BENCH_HEAP_PROF) {
      session.post('HeapProfiler.stopSampling', (err, result) => {
        if (!err && result?.profile) fs.writeFileSync(file.replace(/\.cpuprofile$/, '.heapprofile'), JSON.stringify(result.profile));
      });
    }
    session.post('Profiler.stop', (err, result) => {
      if (!err && result?.profile) fs.writeFileSync(file, JSON.stringify(result.profile));
      session.disconnect();
    });
  }
}

/** The IPC message the bench sends a child: start profiling, or stop and write the profile. */
export interface ProfileCommand {
  benchCpuProfile: 'start' | 'stop';
}

/** Preloaded into Node-RED: profiles between the bench's start and stop messages, into BENCH_CPU_PROF_FILE. */
if (process.env.BENCH_CPU_PROF_FILE && process.send) {
  const file = process.env.BENCH_CPU_PROF_FILE;
  const profiler = new CpuProfiler();
  process.on('message', (m: Partial<ProfileCommand>) => {
    if (m?.benchCpuProfile === 'start') profiler.start();
    else if (m?.benchCpuProfile === 'stop') profiler.stop(file);
  });
}
