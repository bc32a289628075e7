// Types for msgo-wx.js, the msgo SDK for WeChat mini programs.
import { Client, Options, SocketLike } from './msgo.js';

export function wxSocket(wxApi?: any): (url: string, protocols: string[]) => SocketLike;
export function connect(options: Options & { wx?: any }): Client;
export { Client, MsgoError, CONNECTING, OPEN, RECONNECTING, CLOSED } from './msgo.js';
