// The four IPC channels the contract travels on (shared by the preload and main's registration;
// contract channel names travel inside them, so nothing else shares Lathe's IPC namespace).
export const IPC_INVOKE = 'lathe:invoke';
export const IPC_SEND = 'lathe:send';
export const IPC_EVENT = 'lathe:event';
export const IPC_DROP = 'lathe:drop';
