// checkout: places ORDER_COUNT orders with order-processor (a call, then a "payment" event),
// and waits until each one is reported shipped, both by a call and by a "shipments" event.
import { deadline, invoke, publish, saveState, serve, subscribed, waitUntil } from '../sidecar.js';

const count = Number(process.env.ORDER_COUNT ?? '10');
const items = ['tea', 'coffee', 'cake', 'bagel', 'juice'];
const shippedCalls = new Set();
const shipmentEvents = new Set();
let allShipped;
const done = new Promise((resolve) => {
  allShipped = resolve;
});

function check() {
  if (shippedCalls.size === count && shipmentEvents.size === count) allShipped();
}

deadline('checkout');
serve({
  'GET /dapr/subscribe': () => [{ pubsubname: 'pubsub', topic: 'shipments', route: '/shipments' }],
  'POST /shipped': (order) => {
    shippedCalls.add(order.orderId);
    console.log(`checkout: order ${order.orderId} shipped (call from order-processor)`);
    check();
  },
  'POST /shipments': (event) => {
    shipmentEvents.add(event.data.orderId);
    console.log(`checkout: order ${event.data.orderId} shipped (event from order-processor)`);
    check();
    return { status: 'SUCCESS' };
  },
});

await waitUntil('the shipments subscription', () => subscribed('shipments'));
await waitUntil('order-processor', async () => (await invoke('order-processor', 'ready')).ready);
for (let orderId = 1; orderId <= count; orderId += 1) {
  const order = { orderId, item: items[orderId % items.length], quantity: 1 + (orderId % 3) };
  const answer = await invoke('order-processor', 'orders', order);
  console.log(
    `checkout: placed order ${orderId} (${order.quantity} x ${order.item}): ${answer.status}`,
  );
  await saveState('last-order', order);
  await publish('orders', { orderId, paid: true });
}
await done;
const summary = await invoke('order-processor', 'summary', { placed: count });
console.log(
  `checkout: summary: ${count} orders placed, ${shippedCalls.size} shipped calls and ` +
    `${shipmentEvents.size} shipment events received; order-processor stored ${summary.stored} orders, ${summary.shipped} shipped`,
);
process.exit(summary.shipped === count ? 0 : 1);
