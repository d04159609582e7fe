// order-processor: takes orders by service invocation (stored in the state store), ships each
// one when its payment event arrives, and tells checkout by a call and a "shipments" event.
import {
  deadline,
  getBulkState,
  getState,
  invoke,
  publish,
  saveState,
  serve,
  subscribed,
} from '../sidecar.js';

const count = Number(process.env.ORDER_COUNT ?? '10');
const received = new Set();
const paid = new Set();

deadline('order-processor');
serve({
  'GET /dapr/subscribe': () => [{ pubsubname: 'pubsub', topic: 'orders', route: '/payments' }],
  'GET /ready': async () => ({ ready: await subscribed('orders') }),
  'POST /orders': async (order) => {
    received.add(order.orderId);
    await saveState(`order-${order.orderId}`, { ...order, status: 'received' });
    console.log(`order-processor: received order ${order.orderId} (call from checkout), stored`);
    return { status: 'accepted' };
  },
  'POST /payments': async (event) => {
    const { orderId } = event.data;
    if (paid.has(orderId)) return { status: 'SUCCESS' }; // at-least-once: a repeat is fine
    paid.add(orderId);
    const order = await getState(`order-${orderId}`);
    await saveState(`order-${orderId}`, { ...order, status: 'shipped' });
    console.log(`order-processor: order ${orderId} paid (event from checkout), shipped`);
    await invoke('checkout', 'shipped', { orderId });
    await publish('shipments', { orderId });
    return { status: 'SUCCESS' };
  },
  'POST /summary': async () => {
    const keys = Array.from({ length: count }, (_, i) => `order-${i + 1}`);
    const stored = (await getBulkState(keys)).filter((item) => item.data !== undefined);
    const shipped = stored.filter((item) => item.data.status === 'shipped').length;
    console.log(
      `order-processor: summary: ${received.size} orders received, ${paid.size} payment events, ` +
        `${stored.length} orders in the state store, ${shipped} shipped`,
    );
    // Answer first, then leave: the run ends once both apps have exited.
    setTimeout(() => process.exit(received.size === count && shipped === count ? 0 : 1), 100);
    return { stored: stored.length, shipped };
  },
});
