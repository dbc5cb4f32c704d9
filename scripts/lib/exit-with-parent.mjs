// Preloaded (`node --import`) into the apps scripts/start.mjs runs. If the
// launcher dies without stopping this process (it was SIGKILLed), the IPC
// channel closes: send ourselves SIGTERM, so the app shuts down as usual
// instead of holding its port until someone finds it.
if (process.channel) {
  process.channel.unref(); // the channel alone must not keep the app alive
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
