import type { Command } from 'commander';
import { daemonUrl } from '../../config/daemon-file';
import { resolveDirs } from '../../config/paths';
import { loadOrCreateToken, tokenPath } from '../../config/token';
import { describeTightened, makeFoldersPrivate } from '../../storage';

interface PairFlags {
  configDir?: string;
  json: boolean;
}

export function registerPair(program: Command): void {
  program
    .command('pair')
    .description('print the pairing token clients must send first (made on first use); paste it into the Figma plugin or VS Code')
    .option('--config-dir <dir>', 'where the token lives (default: $STYLESET_CONFIG_DIR, else the platform config folder)')
    .option('--json', 'print {"token", "tokenFile", "url", "running"} on stdout; url is where the running daemon listens, else where `serve` would', false)
    .action(async (flags: PairFlags) => {
      const { configDir } = resolveDirs({ configDir: flags.configDir });
      for (const change of await makeFoldersPrivate([configDir])) process.stderr.write(`${describeTightened(change)}\n`);
      const token = await loadOrCreateToken(configDir);
      const { url, running } = await daemonUrl(configDir);
      const tokenFile = tokenPath(configDir);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ token, tokenFile, url, running })}\n`);
        return;
      }
      // Only the token on stdout, so that `$(styleset pair)` is the token.
      process.stdout.write(`${token}\n`);
      const where = running ? '' : ' (no daemon runs now: `styleset serve` listens there by its config)';
      process.stderr.write(
        `Paste it into the Styleset Figma plugin or VS Code extension, with the daemon address ${url}${where}.\n` +
          `It is kept in ${tokenFile}, readable by you only; anyone who has it can use the daemon.\n`,
      );
    });
}

