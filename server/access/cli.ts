/**
 * `npm run access -- …`: users and access tokens from the command line, for the first admin (the
 * API's user routes need one already) and for scripts. Talks to the same Redis as the server
 * (REDIS_URL, REDIS_STREAM).
 *
 *   npm run access -- user add maria --role manager      (asks for the password)
 *   npm run access -- token create "control-room TV" --role viewer
 */
import { Command, InvalidArgumentError } from 'commander';
import { read } from 'read';
import { loadConfig } from '../../config';
import { connectRedis } from '../../storage/redis';
import { isRole, type Role } from './roles';
import { AccessStore } from './store';

const config = loadConfig();
const redis = connectRedis(config.redis.url, 'lanewatch-access-cli');
const store = new AccessStore(redis, config.redis.stream, config.access.sessionTtlSec);

const role = (value: string): Role => {
  if (!isRole(value)) throw new InvalidArgumentError('must be viewer, manager or admin');
  return value;
};

const program = new Command('access').description('Lanewatch users and access tokens');
const user = program.command('user').description('people who log in');
user
  .command('add <name>')
  .description('add a user, or set an existing one’s role and password')
  .requiredOption('--role <role>', 'viewer, manager or admin', role)
  .option('--password-stdin', 'read the password from standard input instead of asking')
  .action(async (name: string, options: { role: Role; passwordStdin?: boolean }) => {
    const password = options.passwordStdin ? await stdinLine() : await askPassword();
    const saved = await store.saveUser(name, options.role, password);
    console.log(`${saved.name} can log in as ${saved.role}`);
  });
user
  .command('role')
  .description('change a user’s role')
  .argument('<name>')
  .argument('<role>', 'viewer, manager or admin', role)
  .action(async (name: string, newRole: Role) => {
    const saved = await store.setRole(name, newRole);
    console.log(saved ? `${saved.name} is now ${saved.role}` : `no user ${name}`);
  });
user
  .command('remove <name>')
  .description('remove a user; their sessions end at once')
  .action(async (name: string) => {
    console.log((await store.removeUser(name)) ? `removed ${name}` : `no user ${name}`);
  });
user
  .command('list')
  .description('list users')
  .action(async () => {
    for (const one of await store.users()) console.log(`${one.name}\t${one.role}`);
  });

const token = program.command('token').description('access tokens for kiosks and machines');
token
  .command('create <name>')
  .description('make a token (shown once); a viewer token goes in the kiosk URL')
  .requiredOption('--role <role>', 'viewer, manager or admin', role)
  .action(async (name: string, options: { role: Role }) => {
    const made = await store.createToken(name, options.role, 'command line');
    console.log(`token ${made.info.id} (${made.info.role}) for ${made.info.name}:\n${made.token}`);
    if (made.info.role === 'viewer')
      console.log(`kiosk URL: http://<server>:${config.server.port}/?kiosk&token=${made.token}`);
  });
token
  .command('list')
  .description('list tokens (never the tokens themselves)')
  .action(async () => {
    for (const one of await store.tokens()) {
      console.log(
        `${one.id}\t${one.role}\t${one.name}\tmade ${new Date(one.createdAt).toISOString()} by ${one.createdBy}`,
      );
    }
  });
token
  .command('revoke <id>')
  .description('revoke a token by its id; it stops working at once')
  .action(async (id: string) => {
    console.log((await store.revokeToken(id)) ? `revoked ${id}` : `no token ${id}`);
  });

try {
  await program.parseAsync();
} finally {
  await redis.quit();
}

async function askPassword(): Promise<string> {
  const password = await read({ prompt: 'password (10 characters or more): ', silent: true, replace: '*' });
  const again = await read({ prompt: 'again: ', silent: true, replace: '*' });
  if (password !== again) throw new Error('the two passwords differ');
  return password;
}

async function stdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString().split(/\r?\n/)[0] ?? '';
}
