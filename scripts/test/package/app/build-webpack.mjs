// webpack 5 with its defaults (production mode, no loaders, no config for
// mezzo): it must find mezzo.wasm, the worker and Go's glue by itself.
import { copyFileSync } from 'node:fs';
import webpack from 'webpack';

const compiler = webpack({
  mode: 'production',
  entry: './src/plain.js',
  output: { path: new URL('./dist-webpack', import.meta.url).pathname, filename: 'main.js', publicPath: '/', clean: true },
  experiments: { topLevelAwait: true },
});
compiler.run((err, stats) => {
  if (err || stats.hasErrors()) {
    console.error(err ?? stats.toString('errors-only'));
    process.exit(1);
  }
  copyFileSync(new URL('./webpack.html', import.meta.url), new URL('./dist-webpack/index.html', import.meta.url));
  compiler.close(() => {});
});
