// Builds the stylesheet and copies the scripts the binary embeds.
// Run with `npm run build:assets` after changing crates/web/assets/src or govuk-frontend;
// the output in crates/web/assets/dist is committed so the binary builds without Node.
import { compile, NodePackageImporter } from 'sass'
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const src = join(root, 'crates/web/assets/src')
const dist = join(root, 'crates/web/assets/dist')
mkdirSync(dist, { recursive: true })

const css = compile(join(src, 'app.scss'), {
  style: 'compressed',
  importers: [new NodePackageImporter(root)],
  quietDeps: true
}).css
writeFileSync(join(dist, 'app.css'), css + '\n')
copyFileSync(join(root, 'node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js'), join(dist, 'govuk-frontend.min.js'))
copyFileSync(join(src, 'app.js'), join(dist, 'app.js'))
copyFileSync(join(src, 'favicon.svg'), join(dist, 'favicon.svg'))
console.log(`built ${css.length} bytes of CSS into ${dist}`)
