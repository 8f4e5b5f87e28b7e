import { startDemoServer } from './demo-server.mjs';
import { launch } from './e2e/browser.mjs';
const demo = await startDemoServer({ cacheModule: true });
for (const mode of ['mezzo','mini_a','mini_b','mezzo','mini_a','mini_b','mezzo','mini_a','mini_b']) {
  const b = await launch();
  const page = await b.context.newPage();
  await page.goto(`${demo.origin}/dist/wasm_exec.js`);
  await page.addScriptTag({ url: `${demo.origin}/dist/wasm_exec.js` }).catch(()=>{});
  const r = await page.evaluate(async (mode) => {
    const t = [performance.now()];
    let m;
    if (true) { m = await WebAssembly.compileStreaming(fetch('/dist/' + mode + '.wasm')); t.push(performance.now()); }
    else { const buf = await (await fetch('/dist/mezzo.wasm')).arrayBuffer(); m = await WebAssembly.compile(buf); t.push(performance.now()); }
    const go = new Go();
    const inst = await WebAssembly.instantiate(m, go.importObject);
    t.push(performance.now());
    await new Promise((resolve) => { globalThis.__mezzoReady = resolve; go.run(inst); });
    t.push(performance.now());
    const names = ['fetch+compile', 'instantiate', 'goMainToReady'];
    return Object.fromEntries(names.map((n, i) => [n, +(t[i + 1] - t[i]).toFixed(1)]));
  }, mode);
  console.log(mode, JSON.stringify(r));
  await b.close();
}
await demo.close();
