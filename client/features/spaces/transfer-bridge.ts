// What the space screens use of the page's transfer queue (client/transfers), in one place.
import { type TransferRow, type Transfers, useTransfers } from '../../transfers';

export type { TransferRow };
export type TransferActions = Transfers;

/** The transfer queue and its actions (client/transfers/transfers-context.tsx). */
export function useTransferActions(): TransferActions {
  return useTransfers();
}
