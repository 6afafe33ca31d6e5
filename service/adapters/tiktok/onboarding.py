"""A seller authorized the app: store tokens and cipher for each shop the authorization covers."""

from service.adapters.tiktok.client import TikTokShopClient
from service.adapters.tiktok.oauth import TikTokOAuth
from service.adapters.tiktok.tokens import ShopTokens, TokenStore


async def authorize_shops(
    auth_code: str, oauth: TikTokOAuth, client: TikTokShopClient, store: TokenStore
) -> list[ShopTokens]:
    """Exchange the code, ask which shops the token covers, save one active record per shop.

    Saving replaces any earlier record, which is how a shop marked as needing re-authorization
    becomes callable again.
    """
    data = await oauth.exchange_code(auth_code)
    shops = await client.authorized_shops(access_token=data.access_token)
    records = [ShopTokens.from_token_data(shop.id, data, shop.cipher) for shop in shops]
    for record in records:
        await store.save(record)
    return records
