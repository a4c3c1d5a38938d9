from pbx_platform import create_app

app = create_app()
