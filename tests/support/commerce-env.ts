// Imported first: checkout totals with tax, flat shipping and a free-shipping threshold.
process.env.TAX_RATE = '0.0825';
process.env.SHIPPING_FLAT_RATE = '5.99';
process.env.FREE_SHIPPING_THRESHOLD = '100';
process.env.ORDER_PAYMENT_TIMEOUT_MINUTES = '15';
