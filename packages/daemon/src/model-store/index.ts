/**
 * Models installed in the data folder (by `styleset pull`): one folder per id with a record of
 * where it came from, listed afresh on every read so a running daemon sees installs at once.
 */
export {
  checkModelId,
  findInstalledModel,
  installedModelsDir,
  installModel,
  listInstalledModels,
  listPartialDownloads,
  openStaging,
  removeInstalledModel,
  removePartialDownloads,
  scanInstalledModels,
  type InstalledModel,
  type ModelSource,
  type PartialDownload,
  type UnreadableModel,
} from './installed-models';
export { installedRecordSchema, RECORD_FILE, type InstalledFile, type InstalledRecord } from './installed-record';
