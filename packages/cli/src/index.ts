export { runCli } from './cli.js';
export { ApiCallError, Client, type ClientOptions } from './client.js';
export { type DownloadResult, download } from './download.js';
export { type SubmitOptions, submit } from './submit.js';
