from example_app.apis import login, logout, refresh, signup

auth_urls = {
    'signup': signup,
    'login': login,
    'refresh': refresh,
    'logout': logout,
}
