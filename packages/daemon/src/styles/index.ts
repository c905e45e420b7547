/**
 * Saved styles: a reference (a set's first prompt and seed, or an image and its prompt), the
 * options it was made with and the model it belongs to (the SHA-256 of its U-Net), kept in the
 * data folder under a name, used for new images (`styleJob`) and carried between machines as one
 * zip file (`exportStyle`, `importStyle`).
 */
export { ARCHIVE_LIMITS, ARCHIVE_SUFFIX, exportStyle, importStyle, type ImportOptions, type ImportResult, type LocalModel } from './archive';
export { readSetFile, newStyle, styleOptions, type SetFile, type StyleSource } from './style-source';
export { StyleRequestError, styleJob, type StyleRequest } from './style-job';
export {
  MANIFEST_FILE,
  REFERENCE_FILE,
  STYLE_FORMAT,
  STYLE_FORMAT_VERSION,
  parseManifest,
  styleInfo,
  trajectoryFile,
  type StyleManifest,
  type TrajectoryParams,
} from './style-record';
export { StyleStore, stylesDir, type StoredStyle } from './style-store';
export { modelUnetSha256, unetHashDir, unetSha256, type UnetHash } from './unet-hash';
