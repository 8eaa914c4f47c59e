/** The human lines of the tutorial's programs, kept together. */
export interface Texts {
  readonly demoMessage: (index: number) => string;
  readonly senderStart: string;
  readonly sent: (message: string, occupancy: number, capacity: number) => string;
  readonly senderDone: string;
  readonly receiverStart: string;
  readonly received: (message: string, occupancy: number, capacity: number) => string;
  readonly receiverDone: string;
}

export const ENGLISH: Texts = {
  demoMessage: (index) => `Message #${index}: Hello!`,
  senderStart: 'sender: sending messages',
  sent: (message, occupancy, capacity) => `sent: ${message} (buffer: ${occupancy}/${capacity})`,
  senderDone: 'sender done',
  receiverStart: 'receiver: receiving messages',
  received: (message, occupancy, capacity) => `received: ${message} (buffer: ${occupancy}/${capacity})`,
  receiverDone: 'receiver done',
};
