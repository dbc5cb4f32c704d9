export default async function globalTeardown() {
  await globalThis.__tesseraPostgres?.stop();
}
