// Steady background load for bench/revocation.mjs, in a process of its own so that it does not share an
// event loop with the timing of revocations: autocannon at a fixed overall rate on each target, until
// the parent sends { type: 'stop' }; then the counts go back over IPC as { type: 'result', results }.
//   node bench/load.mjs '{"targets":[{"url":"...","headers":{}}],"connections":16,"rate":300}'
import autocannon from 'autocannon';

const { targets, connections, rate } = JSON.parse(process.argv[2]);
const instances = [];
const results = targets.map(
  ({ url, headers }) =>
    new Promise((res, rej) => {
      instances.push(
        autocannon({ url, headers, connections, overallRate: rate, duration: 600 }, (err, r) =>
          err
            ? rej(err)
            : res({
                url,
                requests: r.requests.total,
                seconds: r.duration,
                non2xx: r.non2xx,
                errors: r.errors,
                timeouts: r.timeouts,
                latencyP50: r.latency.p50,
                latencyP99: r.latency.p99,
                statusCodes: Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([code, { count }]) => [code, count])),
              }),
        ),
      );
    }),
);
process.on('message', (message) => {
  if (message?.type === 'stop') for (const instance of instances) instance.stop();
});
Promise.all(results).then(
  (all) => process.send({ type: 'result', results: all }, () => process.exit(0)),
  (error) => process.send({ type: 'error', message: error.message }, () => process.exit(1)),
);
