import { config } from '../src/platform/config';

/**
 * Preloaded (`node --require`) into the bench's API processes, so that their webhook deliveries
 * reach the bench's receiver on 127.0.0.1. WEBHOOK_ALLOW_PRIVATE_URLS is what lifts the address
 * rule, but the configuration refuses it in production (sellers choose webhook URLs) and the
 * bench measures the API in production mode: so the same flag is set here, once the configuration
 * has been read and checked, in these processes alone. Only the webhook URL checks read it.
 */
config.webhooks.allowPrivateUrls = true;
