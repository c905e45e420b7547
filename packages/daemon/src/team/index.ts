// Team mode: many workers behind front doors, on a team's Redis with BullMQ (README, "Team").
export { openFrontDoor, type FrontDoorOptions } from './front-door';
export { TeamKeys } from './keys';
export { parseQueueUrl, type QueueAddress } from './queue-url';
export type { TeamRetention } from './redis-job-store';
export { startTeamWorker, type TeamWorker, type TeamWorkerEvent, type TeamWorkerOptions } from './worker';
