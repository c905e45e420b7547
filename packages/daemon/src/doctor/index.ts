/**
 * `styleset doctor`: versions, ONNX Runtime's providers, models and their sizes, the data and
 * config folders (permissions, free disk), the running daemon and the service, and the problems
 * found among them.
 */
export { diagnose, LOW_DISK_BYTES, type DiagnoseOptions, type Diagnosis, type ModelReport } from './diagnose';
export { folderBytes, reportFolder, type FolderReport } from './folder-report';
