"""A seller authorized the app: store tokens and cipher for each shop the authorization covers."""

from service.adapters.tiktok.client import TikTokShopClient
from service.adapters.tiktok.oauth import TikTokOAuth
from service.adapters.tiktok.tokens import authorization_from
from service.application.ports import ShopDirectory
from service.domain.shops import ShopAuthorization


async def authorize_shops(
    auth_code: str, oauth: TikTokOAuth, client: TikTokShopClient, directory: ShopDirectory
) -> list[ShopAuthorization]:
    """Exchange the code (``/api/v2/token/get``), ask which shops the token covers
    (``/authorization/202309/shops``), save one active authorization per shop.

    Saving replaces any earlier tokens, which is how a shop marked as needing re-authorization
    becomes callable again (a recorded deauthorization is the gateway's to lift). Raises the
    adapter's errors (a used or unknown code is a TikTokApiError).
    """
    data = await oauth.exchange_code(auth_code)
    shops = await client.authorized_shops(access_token=data.access_token)
    records = [authorization_from(shop.id, data, shop.cipher) for shop in shops]
    for record in records:
        await directory.save_authorization(record)
    return records
